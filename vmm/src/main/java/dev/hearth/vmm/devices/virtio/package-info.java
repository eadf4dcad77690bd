/**
 * Virtio devices on the virtio-mmio transport, decoupled from how events reach them.
 *
 * <p>How a VM wires one device (all of it on the VM's event-loop thread unless said otherwise);
 * {@code dev.hearth.vmm.vm.VirtioDeviceSet} does this for the devices of a {@code VmConfig}:
 *
 * <ol>
 *   <li>Build the device ({@code VirtioBlock}, {@code VirtioNet}, {@code VirtioRng}, {@code
 *       VirtioVsock}) with a {@link dev.hearth.vmm.ratelimit.RefillTimer.Factory}: each timer it
 *       creates is a timerfd in the event loop's epoll set; {@code arm(delayNanos)} sets it
 *       one-shot ({@code timerfd_settime}), {@code disarm()} clears it, and when it fires the loop
 *       reads the timerfd and runs the callback it was created with.
 *   <li>Wrap it in {@link dev.hearth.vmm.devices.virtio.mmio.MmioTransport} with guest memory, an
 *       {@link dev.hearth.vmm.devices.InterruptLine} that writes the slot's irqfd, and the event
 *       loop as the executor for QueueNotify writes that reach the bus.
 *   <li>Put the transport on the MMIO bus at a {@link
 *       dev.hearth.vmm.devices.virtio.mmio.VirtioMmio#SLOT_SIZE} slot and add {@link
 *       dev.hearth.vmm.devices.virtio.mmio.VirtioMmio#kernelCmdlineToken} to the command line.
 *   <li>For each queue i in {@code [0, transport.queueCount())}, register an ioeventfd at slot base
 *       + {@link dev.hearth.vmm.devices.virtio.mmio.VirtioMmio#QUEUE_NOTIFY_OFFSET}, 4 bytes,
 *       datamatch i; when it fires, the loop calls {@code transport.queueNotify(i)}.
 *   <li>virtio-net: register the tap fd edge-triggered (EPOLLIN | EPOLLET) and call {@code
 *       VirtioNet.onBackendReadable()}; the real tap is {@link
 *       dev.hearth.vmm.devices.virtio.net.TapBackend} (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR,
 *       TUNSETVNETHDRSZ 12, TUNSETOFFLOAD as negotiated, over the ioctls of {@code sys.Tun}).
 *   <li>virtio-vsock: run {@code VirtioVsock.runHostLoop(onDeath)} on a thread of its own (a Java
 *       selector over Unix sockets) and {@code close()} it when the VM stops.
 * </ol>
 *
 * <p>Every device entry point synchronises on the device object, which the transport also uses, so
 * vCPU threads, the event loop and the vsock host thread never race.
 */
package dev.hearth.vmm.devices.virtio;
