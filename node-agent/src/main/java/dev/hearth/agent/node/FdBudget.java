package dev.hearth.agent.node;

import dev.hearth.vmm.sys.OpenFileLimit;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * File descriptors as a node resource. Every VM of the embedded VMM holds several (its KVM VM and
 * vCPU fds, an epoll, eventfds, one per disk file and tap), and they all come from the agent's one
 * process limit. Without counting, the VM that crosses the limit fails half-built with EMFILE, and
 * so does whatever else the agent opens next (its API connections, image downloads), which then
 * retry. With it, a VM that would not fit is refused before anything is made, and the node reports
 * how many idle VMs fit ({@link #maxVms()}), so the operator places no more there.
 *
 * <p>Thread-safe.
 */
public final class FdBudget {
  /**
   * Per VM of the embedded VMM, measured by {@code VmmFdsTest} (which fails when the VMM needs more
   * than these): a 1-vCPU VM without devices holds 2 (VM, vCPU; the serial port interrupts through
   * KVM_IRQ_LINE) plus /dev/kvm while it is made; the first device adds the event loop's epoll and
   * wake eventfd; each further vCPU 1, each disk 4 (file, interrupt, queue notifier, limiter
   * timer), each interface 5, vsock 5 plus one per open connection.
   */
  static final int PER_VM = 3;

  static final int EVENT_LOOP = 2;

  static final int PER_EXTRA_VCPU = 1;
  static final int PER_DISK = 5;
  static final int PER_NIC = 6;
  static final int PER_VSOCK = 10;

  /** What the agent keeps for itself beyond what it had open at start (API, HTTP, images). */
  static final int MIN_MARGIN = 512;

  private final long capacity;
  private final Map<String, Integer> held = new HashMap<>();
  private long used;

  /** A budget of {@code capacity} descriptors for VMs. */
  public FdBudget(long capacity) {
    if (capacity < 0) {
      throw new IllegalArgumentException("fd capacity must not be negative: " + capacity);
    }
    this.capacity = capacity;
  }

  /**
   * The budget left under {@code limit} (the soft RLIMIT_NOFILE) once {@code openNow} and a margin
   * for the agent itself (a tenth of the limit, at least {@link #MIN_MARGIN}) are set aside.
   */
  public static FdBudget under(long limit, long openNow) {
    long margin = Math.max(MIN_MARGIN, limit / 10);
    return new FdBudget(Math.max(0, limit - openNow - margin));
  }

  /**
   * Raises this process's soft open-file limit to its hard limit and budgets what is left of it.
   */
  public static FdBudget ofThisProcess() {
    return under(OpenFileLimit.raiseToHard().soft(), openNow());
  }

  /** How many descriptors this process has open. */
  public static long openNow() {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list /proc/self/fd", e);
    }
  }

  /** The descriptors one VM of this shape holds, at most. */
  public static int perVm(int vcpus, int disks, int nics, boolean vsock) {
    boolean devices = disks > 0 || nics > 0 || vsock;
    return PER_VM
        + (devices ? EVENT_LOOP : 0)
        + PER_EXTRA_VCPU * Math.max(0, vcpus - 1)
        + PER_DISK * disks
        + PER_NIC * nics
        + (vsock ? PER_VSOCK : 0);
  }

  /** Descriptors for VMs in all. */
  public long capacity() {
    return capacity;
  }

  /** How many of the smallest VMs (1 vCPU, no devices) fit in all: the node's VM capacity. */
  public int maxVms() {
    return (int) Math.min(Integer.MAX_VALUE, capacity / perVm(1, 0, 0, false));
  }

  /**
   * Holds {@code fds} for {@code owner} unless that would exceed the budget; an owner that holds
   * already keeps what it has (a restart of the same VM). Returns whether the owner holds now.
   */
  public synchronized boolean tryHold(String owner, int fds) {
    if (held.containsKey(owner)) {
      return true;
    }
    if (used + fds > capacity) {
      return false;
    }
    held.put(owner, fds);
    used += fds;
    return true;
  }

  /** Gives back what {@code owner} holds, if anything. */
  public synchronized void release(String owner) {
    Integer fds = held.remove(owner);
    if (fds != null) {
      used -= fds;
    }
  }

  /** Descriptors held by VMs now. */
  public synchronized long used() {
    return used;
  }

  @Override
  public synchronized String toString() {
    return used + " of " + capacity + " file descriptors held by " + held.size() + " VMs";
  }
}
