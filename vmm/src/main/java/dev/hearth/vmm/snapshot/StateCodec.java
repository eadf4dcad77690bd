package dev.hearth.vmm.snapshot;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Writes a tree of state records as bytes and reads it back, driven only by the expected record
 * type: components in declaration order, big-endian; {@code int}, {@code long}, {@code boolean}
 * (one byte); {@code byte[]}, {@code long[]}, {@link String} (UTF-8) and {@link List} as a 32-bit
 * count then the items; {@link Optional} as a presence byte then the value; a record as its
 * components. Nothing in the bytes names a class, so reading can only make the records the caller
 * asked for; a length past the end, or bytes left over, is refused.
 */
public final class StateCodec {
  private StateCodec() {}

  /** The bytes of {@code state}. */
  public static byte[] encode(Record state) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      write(out, state, state.getClass());
    } catch (IOException e) {
      throw new SnapshotException("encoding " + state.getClass().getSimpleName() + ": " + e, e);
    }
    return bytes.toByteArray();
  }

  /**
   * The {@code type} record that {@code bytes} hold.
   *
   * @throws SnapshotException if the bytes are not such a record
   */
  public static <R extends Record> R decode(byte[] bytes, Class<R> type) {
    ByteBuffer in = ByteBuffer.wrap(bytes);
    try {
      R r = type.cast(read(in, type));
      if (in.hasRemaining()) {
        throw new SnapshotException(in.remaining() + " bytes left after the state");
      }
      return r;
    } catch (BufferUnderflowException e) {
      throw new SnapshotException("the state ends early (at byte " + in.position() + ")", e);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new SnapshotException("malformed state at byte " + in.position() + ": " + e, e);
    }
  }

  private static void write(DataOutputStream out, Object v, Type type) throws IOException {
    Class<?> raw = rawClass(type);
    if (raw == int.class || raw == Integer.class) {
      out.writeInt((Integer) v);
    } else if (raw == long.class || raw == Long.class) {
      out.writeLong((Long) v);
    } else if (raw == boolean.class || raw == Boolean.class) {
      out.writeBoolean((Boolean) v);
    } else if (raw == byte[].class) {
      byte[] b = (byte[]) v;
      out.writeInt(b.length);
      out.write(b);
    } else if (raw == long[].class) {
      long[] l = (long[]) v;
      out.writeInt(l.length);
      for (long x : l) {
        out.writeLong(x);
      }
    } else if (raw == String.class) {
      byte[] b = ((String) v).getBytes(StandardCharsets.UTF_8);
      out.writeInt(b.length);
      out.write(b);
    } else if (raw == List.class) {
      List<?> list = (List<?>) v;
      out.writeInt(list.size());
      for (Object item : list) {
        write(out, item, typeArgument(type));
      }
    } else if (raw == Optional.class) {
      Optional<?> o = (Optional<?>) v;
      out.writeBoolean(o.isPresent());
      if (o.isPresent()) {
        write(out, o.get(), typeArgument(type));
      }
    } else if (raw.isRecord()) {
      for (RecordComponent c : raw.getRecordComponents()) {
        try {
          var accessor = c.getAccessor();
          accessor.setAccessible(true);
          write(out, accessor.invoke(v), c.getGenericType());
        } catch (ReflectiveOperationException e) {
          throw new SnapshotException("reading " + raw.getSimpleName() + "." + c.getName(), e);
        }
      }
    } else {
      throw new SnapshotException("state cannot hold a " + raw.getName());
    }
  }

  private static Object read(ByteBuffer in, Type type) {
    Class<?> raw = rawClass(type);
    if (raw == int.class || raw == Integer.class) {
      return in.getInt();
    } else if (raw == long.class || raw == Long.class) {
      return in.getLong();
    } else if (raw == boolean.class || raw == Boolean.class) {
      byte b = in.get();
      if (b != 0 && b != 1) {
        throw new IllegalStateException("boolean byte " + b);
      }
      return b == 1;
    } else if (raw == byte[].class) {
      byte[] b = new byte[length(in, 1)];
      in.get(b);
      return b;
    } else if (raw == long[].class) {
      long[] l = new long[length(in, 8)];
      for (int i = 0; i < l.length; i++) {
        l[i] = in.getLong();
      }
      return l;
    } else if (raw == String.class) {
      byte[] b = new byte[length(in, 1)];
      in.get(b);
      return new String(b, StandardCharsets.UTF_8);
    } else if (raw == List.class) {
      int n = length(in, 1);
      List<Object> list = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        list.add(read(in, typeArgument(type)));
      }
      return List.copyOf(list);
    } else if (raw == Optional.class) {
      return (Boolean) read(in, boolean.class)
          ? Optional.of(read(in, typeArgument(type)))
          : Optional.empty();
    } else if (raw.isRecord()) {
      RecordComponent[] cs = raw.getRecordComponents();
      Object[] args = new Object[cs.length];
      Class<?>[] types = new Class<?>[cs.length];
      for (int i = 0; i < cs.length; i++) {
        args[i] = read(in, cs[i].getGenericType());
        types[i] = cs[i].getType();
      }
      try {
        Constructor<?> ctor = raw.getDeclaredConstructor(types);
        ctor.setAccessible(true);
        return ctor.newInstance(args);
      } catch (java.lang.reflect.InvocationTargetException e) {
        // The record's own checks refused the values.
        throw new IllegalStateException(raw.getSimpleName() + ": " + e.getCause(), e.getCause());
      } catch (ReflectiveOperationException e) {
        throw new SnapshotException("cannot make a " + raw.getName() + ": " + e, e);
      }
    }
    throw new SnapshotException("state cannot hold a " + raw.getName());
  }

  /** A count, checked against the bytes left (each item takes at least {@code minItemBytes}). */
  private static int length(ByteBuffer in, int minItemBytes) {
    int n = in.getInt();
    if (n < 0 || (long) n * minItemBytes > in.remaining()) {
      throw new IllegalStateException("length " + n + " with " + in.remaining() + " bytes left");
    }
    return n;
  }

  private static Class<?> rawClass(Type type) {
    if (type instanceof Class<?> c) {
      return c;
    }
    if (type instanceof ParameterizedType p) {
      return (Class<?>) p.getRawType();
    }
    throw new SnapshotException("state cannot hold a " + type);
  }

  private static Type typeArgument(Type type) {
    if (type instanceof ParameterizedType p) {
      return p.getActualTypeArguments()[0];
    }
    throw new SnapshotException("a list or optional in state needs its item type: " + type);
  }
}
