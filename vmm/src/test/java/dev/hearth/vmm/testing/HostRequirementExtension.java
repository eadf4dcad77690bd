package dev.hearth.vmm.testing;

import java.lang.annotation.Annotation;
import java.lang.reflect.AnnotatedElement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.opentest4j.TestAbortedException;

/** Skips or fails tests annotated {@link RequiresKvm} or {@link RequiresRoot}; see those. */
public final class HostRequirementExtension implements BeforeAllCallback, BeforeEachCallback {

  @Override
  public void beforeAll(ExtensionContext context) {
    check(context.getRequiredTestClass(), context.getDisplayName());
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    check(context.getRequiredTestMethod(), context.getDisplayName());
  }

  private static void check(AnnotatedElement element, String what) {
    for (HostRequirement requirement : requirementsOf(element)) {
      Optional<String> why = requirement.whyMissing();
      switch (HostRequirement.decide(why, HostRequirement.onCi())) {
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
  }

  private static List<HostRequirement> requirementsOf(AnnotatedElement element) {
    List<HostRequirement> found = new ArrayList<>();
    if (has(element, RequiresKvm.class)) {
      found.add(HostRequirement.KVM);
    }
    if (has(element, RequiresRoot.class)) {
      found.add(HostRequirement.ROOT);
    }
    return found;
  }

  private static boolean has(AnnotatedElement element, Class<? extends Annotation> type) {
    return element.isAnnotationPresent(type);
  }
}
