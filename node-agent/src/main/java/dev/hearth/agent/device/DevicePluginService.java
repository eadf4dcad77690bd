package dev.hearth.agent.device;

import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code v1beta1.DevicePlugin} service for one {@link DeviceResource}: {@code ListAndWatch}
 * lists its devices (all healthy while the device node exists on the node, all unhealthy when it
 * does not) and sends the list again whenever that changes; {@code Allocate} gives each container
 * the device node with read and write access, which the runtime adds to the container's device
 * cgroup. Messages are encoded by {@link Protobuf}.
 */
final class DevicePluginService {
  private static final Logger LOG = LoggerFactory.getLogger(DevicePluginService.class);

  /** The API version the plugin registers with (the kubelet's {@code pluginapi.Version}). */
  static final String API_VERSION = "v1beta1";

  static final String SERVICE = "v1beta1.DevicePlugin";
  static final String REGISTRATION = "v1beta1.Registration";

  private final DeviceResource resource;
  private final List<StreamObserver<byte[]>> watchers = new CopyOnWriteArrayList<>();
  private volatile boolean healthy;

  DevicePluginService(DeviceResource resource, boolean healthy) {
    this.resource = resource;
    this.healthy = healthy;
  }

  /** Records the device's health and tells the kubelet when it changed. */
  void setHealthy(boolean now) {
    if (now == healthy) {
      return;
    }
    healthy = now;
    LOG.warn("{} is {} on this node", resource.devicePath(), now ? "back" : "gone");
    byte[] list = deviceList();
    for (StreamObserver<byte[]> w : watchers) {
      try {
        w.onNext(list);
      } catch (RuntimeException e) { // a kubelet that went away; it re-watches after registering
        watchers.remove(w);
      }
    }
  }

  /** Ends every open {@code ListAndWatch}, as the server stops. */
  void closeWatchers() {
    for (StreamObserver<byte[]> w : watchers) {
      try {
        w.onCompleted();
      } catch (RuntimeException e) { // cancelled meanwhile
        LOG.debug("a ListAndWatch stream was already closed: {}", e.toString());
      }
    }
    watchers.clear();
  }

  ServerServiceDefinition definition() {
    return ServerServiceDefinition.builder(SERVICE)
        .addMethod(
            method(SERVICE, "GetDevicePluginOptions", MethodDescriptor.MethodType.UNARY),
            ServerCalls.asyncUnaryCall(
                (req, out) -> reply(out, new Protobuf.Writer().toByteArray())))
        .addMethod(
            method(SERVICE, "ListAndWatch", MethodDescriptor.MethodType.SERVER_STREAMING),
            ServerCalls.asyncServerStreamingCall(
                (req, out) -> {
                  watchers.add(out);
                  // A kubelet that goes away (it restarts, or re-watches) is forgotten at once.
                  ((ServerCallStreamObserver<byte[]>) out)
                      .setOnCancelHandler(() -> watchers.remove(out));
                  out.onNext(deviceList());
                }))
        .addMethod(
            method(SERVICE, "GetPreferredAllocation", MethodDescriptor.MethodType.UNARY),
            ServerCalls.asyncUnaryCall(
                (req, out) -> reply(out, new Protobuf.Writer().toByteArray())))
        .addMethod(
            method(SERVICE, "Allocate", MethodDescriptor.MethodType.UNARY),
            ServerCalls.asyncUnaryCall(this::allocate))
        .addMethod(
            method(SERVICE, "PreStartContainer", MethodDescriptor.MethodType.UNARY),
            ServerCalls.asyncUnaryCall(
                (req, out) -> reply(out, new Protobuf.Writer().toByteArray())))
        .build();
  }

  /** {@code ListAndWatchResponse}: repeated Device {ID = 1, health = 2}. */
  byte[] deviceList() {
    Protobuf.Writer list = new Protobuf.Writer();
    for (String id : resource.deviceIds()) {
      list.message(
          1, new Protobuf.Writer().string(1, id).string(2, healthy ? "Healthy" : "Unhealthy"));
    }
    return list.toByteArray();
  }

  /**
   * {@code AllocateRequest} (repeated ContainerAllocateRequest = 1, each with device IDs = 1) to
   * {@code AllocateResponse}: one ContainerAllocateResponse (= 1) per container, each with one
   * DeviceSpec (devices = 3: container_path = 1, host_path = 2, permissions = 3).
   */
  private void allocate(byte[] request, StreamObserver<byte[]> out) {
    try {
      Protobuf.Writer response = new Protobuf.Writer();
      String path = resource.devicePath().toString();
      for (byte[] container : Protobuf.lengthDelimited(request, 1)) {
        List<String> ids = Protobuf.strings(container, 1);
        if (!resource.deviceIds().containsAll(ids)) {
          out.onError(
              Status.INVALID_ARGUMENT
                  .withDescription("unknown " + resource.resourceName() + " devices " + ids)
                  .asRuntimeException());
          return;
        }
        response.message(
            1,
            new Protobuf.Writer()
                .message(3, new Protobuf.Writer().string(1, path).string(2, path).string(3, "rw")));
        LOG.info("allocated {} ({}) to a container", resource.resourceName(), ids);
      }
      reply(out, response.toByteArray());
    } catch (DevicePluginException e) {
      out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
    }
  }

  private static void reply(StreamObserver<byte[]> out, byte[] message) {
    out.onNext(message);
    out.onCompleted();
  }

  /** A method of {@code service} whose messages travel as the bytes {@link Protobuf} makes. */
  static MethodDescriptor<byte[], byte[]> method(
      String service, String name, MethodDescriptor.MethodType type) {
    return MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(type)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(service, name))
        .setRequestMarshaller(BYTES)
        .setResponseMarshaller(BYTES)
        .build();
  }

  private static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try (stream) {
            return stream.readNBytes(1 << 20); // the plugin's messages are a few hundred bytes
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };
}
