/* The network steps inside the new namespaces. */
#ifndef NSBOX_HELPER_NETWORK_H
#define NSBOX_HELPER_NETWORK_H

#include "failure.h"
#include "plan.h"

/* A new network namespace has only "lo", and it is down: bring it up, as bubblewrap does, so
 * that servers and clients inside can talk over 127.0.0.1. */
int network_loopback_up(struct failure *f);

/* The inside end of a veth pair (made by the parent): give it its address and bring it up. */
int network_iface_up(const struct step *step, struct failure *f);

#endif
