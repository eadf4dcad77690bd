/**
 * FFM downcalls to libc ({@link dev.hearth.vmm.sys.LibC}, linked by {@code Downcalls}, the one
 * class of this package that links native code) and the fds built on them: eventfd, epoll, timerfd,
 * TUN. errno is captured per call, and failures are {@link dev.hearth.vmm.sys.SysException}s naming
 * the call, the fd and the error. Depends on nothing else of Hearth.
 */
package dev.hearth.vmm.sys;
