package dev.hearth.agent.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The device plugin against a kubelet played by the test over the same gRPC Unix sockets: it
 * registers each resource, lists its devices with their health, and allocates the device node with
 * read-write access; a kubelet restart (a new kubelet.sock) makes it serve and register again.
 */
class DevicePluginTest {
  @TempDir Path dir;
  private final EventLoopGroup group = new EpollEventLoopGroup(1);
  private final List<byte[]> registrations = new CopyOnWriteArrayList<>();
  private Server kubelet;

  @BeforeEach
  void kubelet() throws Exception {
    kubelet = startKubelet();
  }

  @AfterEach
  void stop() {
    kubelet.shutdownNow();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }

  @Test
  void registersListsHealthyDevicesAndAllocatesTheDeviceNodeReadWrite() throws Exception {
    DeviceResource nul = new DeviceResource("test.dev/null", Path.of("/dev/null"), "null.sock", 2);
    try (DevicePlugin plugin = new DevicePlugin(dir, Path.of("/dev"), List.of(nul))) {
      plugin.check();
      assertThat(registrations).hasSize(1);
      byte[] reg = registrations.getFirst();
      assertThat(Protobuf.strings(reg, 1)).containsExactly("v1beta1");
      assertThat(Protobuf.strings(reg, 2)).containsExactly("null.sock");
      assertThat(Protobuf.strings(reg, 3)).containsExactly("test.dev/null");

      ManagedChannel channel = channel(dir.resolve("null.sock"));
      try {
        Iterator<byte[]> lists =
            ClientCalls.blockingServerStreamingCall(
                channel, method("ListAndWatch"), CallOptions.DEFAULT, new byte[0]);
        List<byte[]> devices = Protobuf.lengthDelimited(lists.next(), 1);
        assertThat(devices).hasSize(2);
        assertThat(Protobuf.strings(devices.get(0), 1)).containsExactly("null-0");
        assertThat(Protobuf.strings(devices.get(1), 2)).containsExactly("Healthy");

        byte[] allocate =
            new Protobuf.Writer()
                .message(1, new Protobuf.Writer().string(1, "null-1"))
                .toByteArray();
        byte[] response =
            ClientCalls.blockingUnaryCall(
                channel, method("Allocate"), CallOptions.DEFAULT, allocate);
        List<byte[]> containers = Protobuf.lengthDelimited(response, 1);
        assertThat(containers).hasSize(1);
        byte[] spec = Protobuf.lengthDelimited(containers.getFirst(), 3).getFirst();
        assertThat(Protobuf.strings(spec, 1)).containsExactly("/dev/null");
        assertThat(Protobuf.strings(spec, 2)).containsExactly("/dev/null");
        assertThat(Protobuf.strings(spec, 3)).containsExactly("rw");

        byte[] foreign =
            new Protobuf.Writer()
                .message(1, new Protobuf.Writer().string(1, "gpu-0"))
                .toByteArray();
        assertThatThrownBy(
                () ->
                    ClientCalls.blockingUnaryCall(
                        channel, method("Allocate"), CallOptions.DEFAULT, foreign))
            .isInstanceOf(StatusRuntimeException.class)
            .hasMessageContaining("INVALID_ARGUMENT");
      } finally {
        channel.shutdownNow();
      }
    }
  }

  @Test
  void aDeviceMissingOnTheNodeIsListedUnhealthy() throws Exception {
    Path devRoot = Files.createDirectories(dir.resolve("dev"));
    try (DevicePlugin plugin = new DevicePlugin(dir, devRoot, DeviceResource.agentDevices(1))) {
      plugin.check();
      assertThat(registrations)
          .extracting(r -> Protobuf.strings(r, 3).getFirst())
          .containsExactly(DeviceResource.KVM, DeviceResource.TUN);
      ManagedChannel channel = channel(dir.resolve("hearth-kvm.sock"));
      try {
        byte[] list =
            ClientCalls.blockingServerStreamingCall(
                    channel, method("ListAndWatch"), CallOptions.DEFAULT, new byte[0])
                .next();
        byte[] device = Protobuf.lengthDelimited(list, 1).getFirst();
        assertThat(Protobuf.strings(device, 1)).containsExactly("kvm-0");
        assertThat(Protobuf.strings(device, 2)).containsExactly("Unhealthy");
      } finally {
        channel.shutdownNow();
      }
    }
  }

  @Test
  void registersAgainWhenTheKubeletRestarts() throws Exception {
    DeviceResource nul = new DeviceResource("test.dev/null", Path.of("/dev/null"), "null.sock", 1);
    try (DevicePlugin plugin = new DevicePlugin(dir, Path.of("/dev"), List.of(nul))) {
      plugin.check();
      plugin.check();
      assertThat(registrations).hasSize(1);
      // A kubelet starting removes the plugins' sockets and makes its own anew.
      kubelet.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      Files.deleteIfExists(dir.resolve("null.sock"));
      Files.deleteIfExists(dir.resolve("kubelet.sock"));
      Thread.sleep(10); // a later modification time, should the inode be reused
      kubelet = startKubelet();
      plugin.check();
      assertThat(registrations).hasSize(2);
      assertThat(dir.resolve("null.sock")).exists();
    }
  }

  @Test
  void withoutAKubeletItSaysWhere() {
    kubelet.shutdownNow();
    try (DevicePlugin plugin =
        new DevicePlugin(dir.resolve("none"), Path.of("/dev"), DeviceResource.agentDevices(1))) {
      assertThatThrownBy(plugin::check)
          .isInstanceOf(DevicePluginException.class)
          .hasMessageContaining("none/kubelet.sock");
    }
  }

  @Test
  void rejectsMalformedMessages() {
    assertThatThrownBy(() -> Protobuf.lengthDelimited(new byte[] {0x0a, 0x7f, 1}, 1))
        .isInstanceOf(DevicePluginException.class)
        .hasMessageContaining("claims 127 bytes");
    assertThatThrownBy(() -> Protobuf.lengthDelimited(new byte[] {(byte) 0x80}, 1))
        .isInstanceOf(DevicePluginException.class);
  }

  private Server startKubelet() throws Exception {
    ServerServiceDefinition registration =
        ServerServiceDefinition.builder(DevicePluginService.REGISTRATION)
            .addMethod(
                DevicePluginService.method(
                    DevicePluginService.REGISTRATION,
                    "Register",
                    io.grpc.MethodDescriptor.MethodType.UNARY),
                ServerCalls.asyncUnaryCall(
                    (byte[] req, io.grpc.stub.StreamObserver<byte[]> out) -> {
                      registrations.add(req);
                      out.onNext(new byte[0]);
                      out.onCompleted();
                    }))
            .build();
    return NettyServerBuilder.forAddress(
            new DomainSocketAddress(dir.resolve("kubelet.sock").toString()))
        .channelType(EpollServerDomainSocketChannel.class)
        .bossEventLoopGroup(group)
        .workerEventLoopGroup(group)
        .addService(registration)
        .build()
        .start();
  }

  private ManagedChannel channel(Path socket) {
    return NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
        .channelType(EpollDomainSocketChannel.class)
        .eventLoopGroup(group)
        .overrideAuthority("localhost")
        .usePlaintext()
        .build();
  }

  private static io.grpc.MethodDescriptor<byte[], byte[]> method(String name) {
    io.grpc.MethodDescriptor.MethodType type =
        name.equals("ListAndWatch")
            ? io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING
            : io.grpc.MethodDescriptor.MethodType.UNARY;
    return DevicePluginService.method(DevicePluginService.SERVICE, name, type);
  }
}
