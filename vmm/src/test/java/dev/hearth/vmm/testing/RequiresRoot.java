package dev.hearth.vmm.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test that needs root (taps, bridges, network namespaces). Without it the test is skipped
 * with a message, except under {@code CI=true}, where it fails.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(HostRequirementExtension.class)
public @interface RequiresRoot {}
