package dev.hearth.vmm.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import org.junit.jupiter.api.Test;

/**
 * Runs inside L1 only, through {@link NestedKvm#runJUnit} (its name matches neither Surefire's nor
 * Failsafe's patterns). It shows that the L1 runtime is what Hearth's KVM tests need: JDK 25 and a
 * {@code /dev/kvm} that answers through {@code java.lang.foreign}.
 */
@SuppressWarnings("restricted") // a probe that calls KVM directly, as LibC does
class KvmInsideL1Probe {
  private static final int O_RDWR = 2;
  private static final int O_CLOEXEC = 0x80000;
  private static final long KVM_GET_API_VERSION = 0xAE00L;
  private static final long KVM_CREATE_VM = 0xAE01L;

  @Test
  void runsOnJdk25() {
    assertEquals(25, Runtime.version().feature());
  }

  @Test
  void devKvmAnswersThroughForeignFunctions() throws Throwable {
    Linker linker = Linker.nativeLinker();
    var libc = linker.defaultLookup();
    MethodHandle open =
        linker.downcallHandle(
            libc.findOrThrow("open"),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    MethodHandle ioctl =
        linker.downcallHandle(
            libc.findOrThrow("ioctl"),
            FunctionDescriptor.of(
                ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT,
                ValueLayout.JAVA_LONG,
                ValueLayout.JAVA_LONG),
            Linker.Option.firstVariadicArg(2));
    MethodHandle close =
        linker.downcallHandle(
            libc.findOrThrow("close"),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    try (var arena = java.lang.foreign.Arena.ofConfined()) {
      MemorySegment path = arena.allocateFrom("/dev/kvm");
      int kvm = (int) open.invokeExact(path, O_RDWR | O_CLOEXEC);
      assertTrue(kvm >= 0, "open /dev/kvm returned " + kvm);
      assertEquals(12, (int) ioctl.invokeExact(kvm, KVM_GET_API_VERSION, 0L));
      int vm = (int) ioctl.invokeExact(kvm, KVM_CREATE_VM, 0L);
      assertTrue(vm >= 0, "KVM_CREATE_VM returned " + vm);
      System.out.println("probe: /dev/kvm API 12, KVM_CREATE_VM fd " + vm);
      assertEquals(0, (int) close.invokeExact(vm));
      assertEquals(0, (int) close.invokeExact(kvm));
    }
  }
}
