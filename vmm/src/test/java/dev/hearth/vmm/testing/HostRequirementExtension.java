package dev.hearth.vmm.testing;

import java.lang.reflect.AnnotatedElement;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.opentest4j.TestAbortedException;

/**
 * Skips or fails tests annotated {@link RequiresKvm} or {@link RequiresRoot}; see those.
 *
 * <p>The check runs before each test, not once per class: a class-level abort is reported by
 * Surefire as zero tests run, which hides the skip. Per test, each one shows as skipped, with the
 * reason.
 */
public final class HostRequirementExtension implements BeforeEachCallback {

  @Override
  public void beforeEach(ExtensionContext context) {
    Set<HostRequirement> needed = new LinkedHashSet<>();
    addRequirements(context.getRequiredTestClass(), needed);
    for (Class<?> c = context.getRequiredTestClass().getEnclosingClass();
        c != null;
        c = c.getEnclosingClass()) {
      addRequirements(c, needed);
    }
    addRequirements(context.getRequiredTestMethod(), needed);
    for (HostRequirement requirement : needed) {
      check(requirement, context.getDisplayName());
    }
  }

  private static void check(HostRequirement requirement, String what) {
    Optional<String> why = requirement.whyMissing();
    switch (HostRequirement.decide(
        why, HostRequirement.onCi() && !requirement.coveredElsewhere())) {
      case RUN -> {}
      case SKIP ->
          throw new TestAbortedException(
              "Skipped " + what + ": needs " + requirement + ", but " + why.orElseThrow());
      case FAIL ->
          throw new AssertionError(
              what
                  + " needs "
                  + requirement
                  + " and CI=true forbids skipping it, but "
                  + why.orElseThrow());
    }
  }

  private static void addRequirements(AnnotatedElement element, Set<HostRequirement> into) {
    if (element.isAnnotationPresent(RequiresKvm.class)) {
      into.add(HostRequirement.KVM);
    }
    if (element.isAnnotationPresent(RequiresLinuxKvm.class)) {
      into.add(HostRequirement.KVM);
      into.add(HostRequirement.LINUX_KVM);
    }
    if (element.isAnnotationPresent(RequiresRoot.class)) {
      into.add(HostRequirement.ROOT);
    }
  }
}
