package dev.hearth.agent.device;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The protobuf wire format for the few messages of the device plugin API ({@code
 * k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1/api.proto}): strings, bools and nested messages,
 * written by field number, and read with every field this plugin does not use skipped. Hand-written
 * so that the agent carries no generated code and no protobuf runtime for a dozen fields.
 */
final class Protobuf {
  private static final int VARINT = 0;
  private static final int FIXED64 = 1;
  private static final int LENGTH_DELIMITED = 2;
  private static final int FIXED32 = 5;

  private Protobuf() {}

  /** Builds one message; fields in the order written. */
  static final class Writer {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Writer string(int field, String value) {
      return bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    Writer bool(int field, boolean value) {
      if (value) { // proto3: a false bool is not written
        varint((long) field << 3 | VARINT);
        varint(1);
      }
      return this;
    }

    Writer message(int field, Writer nested) {
      return bytes(field, nested.toByteArray());
    }

    Writer bytes(int field, byte[] value) {
      varint((long) field << 3 | LENGTH_DELIMITED);
      varint(value.length);
      out.writeBytes(value);
      return this;
    }

    byte[] toByteArray() {
      return out.toByteArray();
    }

    private void varint(long v) {
      while ((v & ~0x7FL) != 0) {
        out.write((int) (v & 0x7F) | 0x80);
        v >>>= 7;
      }
      out.write((int) v);
    }
  }

  /** The length-delimited fields numbered {@code field} of {@code message}, in order. */
  static List<byte[]> lengthDelimited(byte[] message, int field) {
    List<byte[]> found = new ArrayList<>();
    int[] pos = {0};
    while (pos[0] < message.length) {
      long key = varint(message, pos);
      int wire = (int) (key & 7);
      long number = key >>> 3;
      switch (wire) {
        case VARINT -> varint(message, pos);
        case FIXED64 -> skip(message, pos, 8);
        case FIXED32 -> skip(message, pos, 4);
        case LENGTH_DELIMITED -> {
          long length = varint(message, pos);
          if (length < 0 || length > message.length - pos[0]) {
            throw new DevicePluginException(
                "malformed message: field " + number + " claims " + length + " bytes");
          }
          int start = pos[0];
          skip(message, pos, (int) length);
          if (number == field) {
            byte[] value = new byte[(int) length];
            System.arraycopy(message, start, value, 0, value.length);
            found.add(value);
          }
        }
        default ->
            throw new DevicePluginException(
                "malformed message: wire type " + wire + " of field " + number);
      }
    }
    return found;
  }

  /** The string fields numbered {@code field} of {@code message}, in order. */
  static List<String> strings(byte[] message, int field) {
    return lengthDelimited(message, field).stream()
        .map(b -> new String(b, StandardCharsets.UTF_8))
        .toList();
  }

  private static long varint(byte[] b, int[] pos) {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos[0] >= b.length) {
        throw new DevicePluginException("malformed message: truncated varint");
      }
      int x = b[pos[0]++];
      v |= (long) (x & 0x7F) << shift;
      if ((x & 0x80) == 0) {
        return v;
      }
    }
    throw new DevicePluginException("malformed message: varint longer than 10 bytes");
  }

  private static void skip(byte[] b, int[] pos, int n) {
    if (n > b.length - pos[0]) {
      throw new DevicePluginException("malformed message: truncated field");
    }
    pos[0] += n;
  }
}
