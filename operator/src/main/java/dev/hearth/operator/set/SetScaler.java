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

  /** A live (not deleting) member: its index and whether it is bound to a node. */
  public record Member(String name, int index, boolean bound) {}

  /** Names to create and members to delete. */
  public record Plan(List<Integer> create, List<String> delete) {}

  public static Plan plan(int replicas, List<Member> live, Set<Integer> takenIndices) {
    if (live.size() < replicas) {
      Set<Integer> taken = new TreeSet<>(takenIndices);
      List<Integer> create = new ArrayList<>();
      for (int i = 0; create.size() < replicas - live.size(); i++) {
        if (!taken.contains(i)) {
          create.add(i);
        }
      }
      return new Plan(create, List.of());
    }
    if (live.size() > replicas) {
      // Unbound members first (they cost nothing to drop), then the highest indices.
      List<Member> order = new ArrayList<>(live);
      order.sort(
          Comparator.comparing(Member::bound)
              .thenComparing(Comparator.comparingInt(Member::index).reversed()));
      return new Plan(
          List.of(), order.subList(0, live.size() - replicas).stream().map(Member::name).toList());
    }
    return new Plan(List.of(), List.of());
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
