/* The network steps inside the new namespaces. */
#ifndef NSBOX_HELPER_NETWORK_H
#define NSBOX_HELPER_NETWORK_H

#include "failure.h"

/* A new network namespace has only "lo", and it is down: bring it up, as bubblewrap does, so
 * that servers and clients inside can talk over 127.0.0.1. */
int network_loopback_up(struct failure *f);

#endif
