// Sandboxes nobody watches any more (their worker thread ended, or the watch was closed while
// they run): one thread, started on first need, collects them as they exit, so that none stays a
// zombie of this process (exit_signal 0: only waitid on the pidfd can collect them).
#ifndef NSBOX_ORPHANS_H
#define NSBOX_ORPHANS_H

namespace nsbox {

// Takes ownership of the pidfd: the process is collected and the fd closed once it has exited.
void AdoptOrphan(int pidfd);

}  // namespace nsbox

#endif
