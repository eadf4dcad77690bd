package dev.hearth.api.v1alpha1;

/**
 * The CEL of {@link MicroVMSpec}'s rules across its devices: reserved names, and read-only drives
 * (or a read-only rootfs) that would attach one image file twice. Compile-time constants, since
 * annotation values must be.
 */
final class DeviceRules {
  private DeviceRules() {}

  /**
   * CEL (after {@code x}), true when device x (a drive or an interface) has neither reserved name.
   */
  static final String NOT_RESERVED =
      ".name != '" + MicroVMLimits.ROOTFS_NAME + "' && x.name != '" + MicroVMLimits.RNG_NAME + "'";

  /**
   * CEL, true when drives d and e read the same file: one path, one cached download, or one OCI
   * image (and file in it).
   */
  static final String SAME_IMAGE =
      "((has(d.source.path) && has(e.source.path) && d.source.path == e.source.path)"
          + " || (has(d.source.sha256) && has(e.source.sha256)"
          + " && d.source.sha256 == e.source.sha256)"
          + " || (has(d.source.oci) && has(e.source.oci) && d.source.oci.image == e.source.oci.image"
          + " && (has(d.source.oci.path) ? has(e.source.oci.path)"
          + " && d.source.oci.path == e.source.oci.path : !has(e.source.oci.path))))";

  /**
   * CEL on the spec, true unless a read-only drive reads the same file as a read-only rootfs (the
   * test of {@link #SAME_IMAGE}, with the rootfs for d).
   */
  static final String READ_ONLY_ROOTFS_NOT_SHARED =
      "!has(self.rootfs) || !has(self.drives)"
          + " || !(has(self.rootfs.readOnly) && self.rootfs.readOnly)"
          + " || !self.drives.exists(e, has(e.readOnly) && e.readOnly && "
          + "((has(self.rootfs.source.path) && has(e.source.path)"
          + " && self.rootfs.source.path == e.source.path)"
          + " || (has(self.rootfs.source.sha256) && has(e.source.sha256)"
          + " && self.rootfs.source.sha256 == e.source.sha256)"
          + " || (has(self.rootfs.source.oci) && has(e.source.oci)"
          + " && self.rootfs.source.oci.image == e.source.oci.image"
          + " && (has(self.rootfs.source.oci.path) ? has(e.source.oci.path)"
          + " && self.rootfs.source.oci.path == e.source.oci.path"
          + " : !has(e.source.oci.path)))))";
}
