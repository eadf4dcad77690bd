/*
 * Container mode of the Hearth init: when the initramfs holds CONTAINER_CONFIG (a small archive
 * the node agent appends per VM), the init runs that container instead of the test guest's checks.
 */
#ifndef HEARTH_CONTAINER_H
#define HEARTH_CONTAINER_H

#define CONTAINER_CONFIG "/hearth/container"

/* Mounts the image on /dev/vda as root, runs the container, reports its exit and ends the VM. */
void run_container(void) __attribute__((noreturn));

#endif
