package dev.hearth.operator.set;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Plans one scaling step of a MicroVMSet. Members are named {@code <set>-<index>}, so creating a
 * member twice answers AlreadyExists instead of making an extra VM: the plan is safe to repeat even
 * when the cache lags the creates.
 */
public final class SetScaler {
  private SetScaler() {}

  /**
   * A live (not deleting) member: its index, whether it is bound to a node, and whether its spec
   * keeps it Suspended (in the warm pool).
   */
  public record Member(String name, int index, boolean bound, boolean suspended) {
    public Member(String name, int index, boolean bound) {
      this(name, index, bound, false);
    }
  }

  /**
   * Members to create (running, then suspended ones for the pool), suspended members to resume
   * (their spec.runState set to Running), and members to delete.
   */
  public record Plan(
      List<Integer> create,
      List<String> delete,
      List<Integer> createSuspended,
      List<String> resume) {
    Plan(List<Integer> create, List<String> delete) {
      this(create, delete, List.of(), List.of());
    }
  }

  public static Plan plan(int replicas, List<Member> live, Set<Integer> takenIndices) {
    return plan(replicas, 0, live, takenIndices);
  }

  /**
   * Keeps {@code replicas} running members and {@code pool} suspended ones. Missing running members
   * come from the pool first (lowest indices), then new ones; the pool is refilled with new
   * suspended members. Extra members go unbound first, then by highest index.
   */
  public static Plan plan(int replicas, int pool, List<Member> live, Set<Integer> takenIndices) {
    List<Member> running = live.stream().filter(m -> !m.suspended()).toList();
    List<Member> waiting = new ArrayList<>(live.stream().filter(Member::suspended).toList());
    waiting.sort(Comparator.comparingInt(Member::index));
    List<String> resume = new ArrayList<>();
    List<String> delete = new ArrayList<>();
    int missing = replicas - running.size();
    while (missing > 0 && !waiting.isEmpty()) {
      resume.add(waiting.removeFirst().name());
      missing--;
    }
    if (running.size() > replicas) {
      delete.addAll(dropOrder(running, running.size() - replicas));
    }
    if (waiting.size() > pool) {
      delete.addAll(dropOrder(waiting, waiting.size() - pool));
    }
    Set<Integer> taken = new TreeSet<>(takenIndices);
    List<Integer> create = free(taken, Math.max(0, missing));
    List<Integer> createSuspended = free(taken, Math.max(0, pool - waiting.size()));
    return new Plan(create, delete, createSuspended, resume);
  }

  /** {@code n} members to drop: unbound first (they cost nothing), then the highest indices. */
  private static List<String> dropOrder(List<Member> members, int n) {
    List<Member> order = new ArrayList<>(members);
    order.sort(
        Comparator.comparing(Member::bound)
            .thenComparing(Comparator.comparingInt(Member::index).reversed()));
    return order.subList(0, n).stream().map(Member::name).toList();
  }

  /** The {@code n} lowest indices not in {@code taken}, which then holds them. */
  private static List<Integer> free(Set<Integer> taken, int n) {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; out.size() < n; i++) {
      if (taken.add(i)) {
        out.add(i);
      }
    }
    return out;
  }

  /** The index in {@code <set>-<index>}, or -1 for a name not of that form. */
  public static int indexOf(String setName, String memberName) {
    String prefix = setName + "-";
    if (!memberName.startsWith(prefix)) {
      return -1;
    }
    try {
      return Integer.parseInt(memberName.substring(prefix.length()));
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
