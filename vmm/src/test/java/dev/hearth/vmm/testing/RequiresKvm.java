package dev.hearth.vmm.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test that needs a usable {@code /dev/kvm}. Without one it is skipped with a message,
 * except under {@code CI=true}, where it fails: CI machines here have KVM.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(HostRequirementExtension.class)
public @interface RequiresKvm {}
