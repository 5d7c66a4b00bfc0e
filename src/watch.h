// Exit watching: reads the helper's reports, then collects the namespace's PID 1 through its
// pidfd. Event-driven on Node's own loop: one epoll set per thread holds every sandbox's two
// fds, and is itself one uv_poll handle. No thread per child, no SIGCHLD.
#ifndef NSBOX_WATCH_H
#define NSBOX_WATCH_H

#include <napi.h>

namespace nsbox {

// new Watch(pidfd, reportFd, onEvent): takes ownership of both fds.
//   onEvent('report', type, step, errno, value, syscall) for each helper report, ('eof') when
//   the report pipe closes before the exit, then onEvent('exit', siCode, siStatus, commandStatus)
//   once, both fds being closed by then (commandStatus: the init's EXIT record, or -1).
// Methods: kill(sig) -> 0 | errno, ref(), unref(), close().
Napi::Function WatchClass(Napi::Env env);

}  // namespace nsbox

#endif
