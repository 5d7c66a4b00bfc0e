// Exit watching: reads the helper's reports, then collects the namespace's PID 1 through its
// pidfd. Event-driven on Node's own loop (uv_poll): no thread per child, no SIGCHLD.
#ifndef NSBOX_WATCH_H
#define NSBOX_WATCH_H

#include <napi.h>

namespace nsbox {

// new Watch(pidfd, reportFd, onEvent): takes ownership of both fds.
//   onEvent('report', type, step, errno, value, syscall) for each helper report, then
//   onEvent('exit', siCode, siStatus) once, after which both fds are closed.
// Methods: kill(sig) -> 0 | errno, ref(), unref(), close().
Napi::Function WatchClass(Napi::Env env);

}  // namespace nsbox

#endif
