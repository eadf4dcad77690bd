package dev.hearth.agent.device;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.ClientCalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@link DeviceResource}s to the kubelet: one gRPC server per resource on a socket in the
 * kubelet's device-plugins folder, registered through the kubelet's {@code kubelet.sock}. {@link
 * #check()}, called periodically, reports each device's health and serves and registers again when
 * the kubelet restarted (it empties the folder and changes its socket).
 */
public final class DevicePlugin implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(DevicePlugin.class);

  private final Path pluginDir;
  private final Path devRoot;
  private final List<DeviceResource> resources;
  private final EventLoopGroup group = new EpollEventLoopGroup(1);
  private final List<Served> served = new ArrayList<>();
  private Object kubeletSocketKey;

  private record Served(DeviceResource resource, DevicePluginService service, Server server) {}

  /**
   * @param pluginDir the kubelet's device-plugins folder, with its {@code kubelet.sock}
   * @param devRoot where the node's {@code /dev} is seen ({@code /dev} itself outside a container)
   */
  public DevicePlugin(Path pluginDir, Path devRoot, List<DeviceResource> resources) {
    this.pluginDir = pluginDir;
    this.devRoot = devRoot;
    this.resources = List.copyOf(resources);
  }

  /** Serves and registers every resource, again if the kubelet restarted; updates health. */
  public synchronized void check() {
    Object key = socketKey(pluginDir.resolve("kubelet.sock"));
    boolean kubeletRestarted = key != null && !key.equals(kubeletSocketKey);
    boolean socketsGone = served.stream().anyMatch(s -> !Files.exists(socket(s.resource())));
    if (served.isEmpty() || kubeletRestarted || socketsGone) {
      if (key == null) {
        throw new DevicePluginException(
            "no kubelet socket " + pluginDir.resolve("kubelet.sock") + " to register with");
      }
      stopServing();
      for (DeviceResource r : resources) {
        served.add(serve(r));
      }
      for (Served s : served) {
        register(s.resource());
      }
      kubeletSocketKey = key;
    }
    for (Served s : served) {
      s.service().setHealthy(present(s.resource()));
    }
  }

  /** Whether the device node exists on the node as a character device. */
  boolean present(DeviceResource r) {
    Path node = devRoot.resolve(Path.of("/dev").relativize(r.devicePath()).toString());
    try {
      int mode = (Integer) Files.getAttribute(node, "unix:mode");
      return (mode & 0170000) == 0020000;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  private Served serve(DeviceResource r) {
    Path socket = socket(r);
    try {
      Files.deleteIfExists(socket); // a previous run's
      DevicePluginService service = new DevicePluginService(r, present(r));
      Server server =
          NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
              .channelType(EpollServerDomainSocketChannel.class)
              .bossEventLoopGroup(group)
              .workerEventLoopGroup(group)
              .addService(service.definition())
              .build()
              .start();
      LOG.info("serving {} ({}) on {}", r.resourceName(), r.devicePath(), socket);
      return new Served(r, service, server);
    } catch (IOException e) {
      throw new DevicePluginException("cannot serve " + r.resourceName() + " on " + socket, e);
    }
  }

  /** {@code RegisterRequest}: version = 1, endpoint = 2 (the socket's name), resource_name = 3. */
  private void register(DeviceResource r) {
    Path kubelet = pluginDir.resolve("kubelet.sock");
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(new DomainSocketAddress(kubelet.toString()))
            .channelType(EpollDomainSocketChannel.class)
            .eventLoopGroup(group)
            .overrideAuthority("localhost")
            .usePlaintext()
            .build();
    try {
      byte[] request =
          new Protobuf.Writer()
              .string(1, DevicePluginService.API_VERSION)
              .string(2, r.socketName())
              .string(3, r.resourceName())
              .toByteArray();
      ClientCalls.blockingUnaryCall(
          channel,
          DevicePluginService.method(
              DevicePluginService.REGISTRATION,
              "Register",
              io.grpc.MethodDescriptor.MethodType.UNARY),
          CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
          request);
      LOG.info("registered {} with the kubelet ({} device(s))", r.resourceName(), r.count());
    } catch (StatusRuntimeException e) {
      throw new DevicePluginException(
          "the kubelet at " + kubelet + " refused " + r.resourceName() + ": " + e.getStatus(), e);
    } finally {
      channel.shutdownNow();
    }
  }

  private Path socket(DeviceResource r) {
    return pluginDir.resolve(r.socketName());
  }

  private static Object socketKey(Path socket) {
    try {
      var attrs = Files.readAttributes(socket, java.nio.file.attribute.BasicFileAttributes.class);
      // The inode and the time: the kubelet makes a new socket each time it starts.
      return Objects.toString(attrs.fileKey()) + "@" + attrs.lastModifiedTime();
    } catch (IOException e) {
      return null;
    }
  }

  private void stopServing() {
    for (Served s : served) {
      s.service().closeWatchers();
      s.server().shutdownNow();
      try {
        Files.deleteIfExists(socket(s.resource()));
      } catch (IOException e) {
        LOG.warn("could not remove {}: {}", socket(s.resource()), e.getMessage());
      }
    }
    served.clear();
  }

  @Override
  public synchronized void close() {
    stopServing();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
