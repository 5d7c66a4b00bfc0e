#include "orphans.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mutex>
#include <thread>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace nsbox {
namespace {

void Collect(int epfd) {
  for (;;) {
    epoll_event events[16];
    int n = epoll_wait(epfd, events, 16, -1);
    for (int i = 0; i < n; i++) {
      int pidfd = events[i].data.fd;
      siginfo_t si = {};
      int rc = waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &si, WEXITED | WNOHANG | __WALL);
      if (rc == 0 && si.si_pid == 0) continue;  // readable, not yet a zombie
      epoll_ctl(epfd, EPOLL_CTL_DEL, pidfd, nullptr);
      close(pidfd);
    }
  }
}

// The collector's code must outlive the addon instance that started it: when the last one goes
// (a worker that alone loaded nsbox ends), Node unloads the library, and the thread would run
// unmapped code. RTLD_NODELETE keeps it loaded for the life of the process.
bool PinLibrary() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&AdoptOrphan), &info) == 0 || !info.dli_fname) return false;
  return dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE) != nullptr;
}

int OrphanEpoll() {
  static int epfd = -1;
  static std::once_flag once;
  std::call_once(once, [] {
    if (!PinLibrary()) return;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) return;
    // No signal may run on it: it only waits and collects.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    std::thread(Collect, epfd).detach();
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  });
  return epfd;
}

}  // namespace

void AdoptOrphan(int pidfd) {
  // The main thread ending means the process is exiting: its children go to init with it.
  if (getpid() == static_cast<pid_t>(syscall(SYS_gettid))) {
    close(pidfd);
    return;
  }
  int epfd = OrphanEpoll();
  epoll_event ev = {};
  ev.events = EPOLLIN;
  ev.data.fd = pidfd;
  if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, pidfd, &ev) < 0) {
    // Nothing else could collect it: wait for it here, after making sure it ends.
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
    siginfo_t si;
    waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &si, WEXITED | __WALL);
    close(pidfd);
  }
}

}  // namespace nsbox
