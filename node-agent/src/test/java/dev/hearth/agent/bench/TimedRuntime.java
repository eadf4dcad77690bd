package dev.hearth.agent.bench;

import dev.hearth.agent.runtime.RunningVm;
import dev.hearth.agent.runtime.VmLaunch;
import dev.hearth.agent.runtime.VmRuntime;
import dev.hearth.agent.runtime.VmStartException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A runtime that times each VM's start (the embedded VMM's create and start: KVM VM, memory, vCPUs,
 * devices) against how many VMs the process already held, which shows whether creating a VM grows
 * dearer with the VMs already there (KVM walks the process's mappings under a lock per new VM).
 */
final class TimedRuntime implements VmRuntime {
  /**
   * One start: the VMs live in the process when it began, how long it took, and the process's
   * memory mappings then (sampled at the first start of each tenth, else -1).
   */
  record Start(int alreadyLive, long nanos, int mappings) {}

  private final VmRuntime delegate;
  private final AtomicInteger live = new AtomicInteger();
  private final List<Start> starts = new CopyOnWriteArrayList<>();
  private volatile int sampleEvery = Integer.MAX_VALUE;
  private final AtomicInteger sampledTenth = new AtomicInteger(-1);

  TimedRuntime(VmRuntime delegate) {
    this.delegate = delegate;
  }

  /** Samples the process's mappings at the first start of each {@code step} VMs already live. */
  void sampleMappingsEvery(int step) {
    sampleEvery = Math.max(1, step);
    sampledTenth.set(-1);
  }

  @Override
  public Capabilities capabilities() {
    return delegate.capabilities();
  }

  @Override
  public RunningVm start(VmLaunch launch) throws VmStartException {
    int already = live.get();
    // Each KVM_CREATE_VM walks every mapping of the process under a lock (mm_take_all_locks):
    // the count beside the start times shows whether that is what grows.
    int tenth = already / sampleEvery;
    int last = sampledTenth.get();
    int mappings =
        tenth > last && sampledTenth.compareAndSet(last, tenth) ? ProcessStats.mappingsNow() : -1;
    long t0 = System.nanoTime();
    RunningVm vm = delegate.start(launch);
    starts.add(new Start(already, System.nanoTime() - t0, mappings));
    live.incrementAndGet();
    vm.exit().whenComplete((e, t) -> live.decrementAndGet());
    return vm;
  }

  @Override
  public RunningVm restore(java.nio.file.Path snapshot, VmLaunch launch) throws VmStartException {
    return delegate.restore(snapshot, launch);
  }

  /** Forgets the starts so far (after the warm-up). */
  void reset() {
    starts.clear();
  }

  int live() {
    return live.get();
  }

  /**
   * Start times by tenth of {@code n}, by the VMs already live: mean and p99 in ms, and the count.
   */
  List<String> byTenth(int n) {
    List<String> out = new ArrayList<>();
    int step = Math.max(1, n / 10);
    for (int lo = 0; lo < n; lo += step) {
      int from = lo;
      int to = lo + step;
      List<Long> ns =
          starts.stream()
              .filter(s -> s.alreadyLive() >= from && s.alreadyLive() < to)
              .map(Start::nanos)
              .sorted()
              .toList();
      if (ns.isEmpty()) {
        continue;
      }
      double mean = ns.stream().mapToLong(Long::longValue).average().orElse(0) / 1e6;
      double p50 = ns.get(ns.size() / 2) / 1e6;
      double p99 = ns.get(Math.min(ns.size() - 1, ns.size() * 99 / 100)) / 1e6;
      int mappings =
          starts.stream()
              .filter(s -> s.alreadyLive() >= from && s.alreadyLive() < to && s.mappings() >= 0)
              .mapToInt(Start::mappings)
              .max()
              .orElse(-1);
      out.add(
          String.format(
              "    %5d-%5d live: %5d starts, mean %6.2f ms, p50 %6.2f ms, p99 %6.2f ms;"
                  + " process mappings %s",
              from,
              to - 1,
              ns.size(),
              mean,
              p50,
              p99,
              mappings < 0 ? "-" : Integer.toString(mappings)));
    }
    return out;
  }

  @Override
  public void close() {
    delegate.close();
  }
}
