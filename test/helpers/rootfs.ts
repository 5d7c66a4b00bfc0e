/** Test root filesystems: the library's own hostRootfs, named for the tests. */
export { hostRootfs as buildRootfs, type HostRootfs as Rootfs } from '../../lib/rootfs';
