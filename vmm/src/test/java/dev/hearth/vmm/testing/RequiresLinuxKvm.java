package dev.hearth.vmm.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test that boots a real Linux guest, so needs a KVM that runs Linux, not one that emulates
 * instructions ({@link LinuxKvmProbe} tells them apart). On a host whose {@code /dev/kvm} cannot
 * run Linux, the test is skipped here and runs inside the nested-KVM harness instead: the module's
 * {@code NestedKvmSuiteIT} selects it by its tag, {@value #TAG}.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(HostRequirementExtension.class)
@Tag(RequiresLinuxKvm.TAG)
public @interface RequiresLinuxKvm {
  /** The tag by which the nested-KVM suite finds these tests. */
  String TAG = "linux-guest";
}
