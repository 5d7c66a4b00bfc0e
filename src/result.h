// Failures cross into JavaScript as plain { errno, syscall, path?, stage? } objects: lib/ builds
// the Error (worded from the request, for a spawn), because errors created here would belong to
// another realm under jest (docs/design.md).
#ifndef NSBOX_RESULT_H
#define NSBOX_RESULT_H

#include <napi.h>

namespace nsbox {

inline Napi::Value Failure(Napi::Env env, int err, const char* syscall, const char* path = nullptr, int stage = 0) {
  Napi::Object result = Napi::Object::New(env);
  if (stage) result.Set("stage", Napi::Number::New(env, stage));
  result.Set("errno", Napi::Number::New(env, err));
  result.Set("syscall", Napi::String::New(env, syscall));
  if (path) result.Set("path", Napi::String::New(env, path));
  return result;
}

// For a programming error in lib/ (the TypeScript validates every user input first).
inline Napi::Value ThrowTypeError(Napi::Env env, const char* message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

}  // namespace nsbox

#endif
