/* The C libraries Redis 7.0 preloads for scripts and that Debian does not
 * ship usably for Lua 5.1: cmsgpack (MessagePack) and struct (binary
 * pack/unpack). Each luaopen_ function works like the standard libraries'
 * (call it with lua_call): it registers the global table and
 * package.loaded entry under its name and returns the table. Built only
 * when Lua is (KASI_LUA, with -I/usr/include/lua5.1). */
#ifndef KASI_LUA_LIBS_H
#define KASI_LUA_LIBS_H
#ifdef KASI_LUA

#include <lua.h>

int luaopen_cmsgpack(lua_State *L);
int luaopen_struct(lua_State *L);

#endif /* KASI_LUA */
#endif /* KASI_LUA_LIBS_H */
