// Failures cross into JavaScript as plain { errno, syscall } objects: lib/errors.ts builds the
// Error, because errors created here would belong to another realm under jest (design notes).
#ifndef NSBOX_RESULT_H
#define NSBOX_RESULT_H

#include <napi.h>

namespace nsbox {

inline Napi::Value Failure(Napi::Env env, int err, const char* syscall, const char* path = nullptr) {
  Napi::Object result = Napi::Object::New(env);
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
