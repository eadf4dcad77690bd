package dev.hearth.api.v1alpha1;

/**
 * Regular expressions and limits that several CEL rules of the CRDs share. Each rule that uses one
 * carries its own worded message: the API server prints a {@code pattern}'s regex to the user, a
 * CEL rule's message instead. The regexes avoid backslashes (character classes instead), so they
 * read the same in Java, in the CRD YAML and in CEL.
 */
final class CelText {
  private CelText() {}

  /** RFC 1123 label: what Kubernetes calls a DNS label (at most 63 characters, checked apart). */
  static final String DNS_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";

  /** RFC 1123 subdomain: dot-separated DNS labels (length checked apart). */
  static final String DNS_SUBDOMAIN = DNS_LABEL + "([.]" + DNS_LABEL + ")*";

  /** A label key's name part: 1 to 63 alphanumerics, '-', '_' or '.', alphanumeric at both ends. */
  static final String LABEL_NAME = "[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?";

  /** A label key (Kubernetes' qualified name): an optional DNS subdomain prefix and '/'. */
  static final String QUALIFIED_NAME = "^(" + DNS_SUBDOMAIN + "/)?" + LABEL_NAME + "$";

  /** A label value: empty, or a label name. */
  static final String LABEL_VALUE = "^(" + LABEL_NAME + ")?$";

  /** A qualified name's prefix is at most 253 characters. */
  static final String PREFIX_LENGTH = "[^/]{0,253}(/[^/]*)?";

  /** CEL, true when the string {@code self} is a label key. */
  static final String SELF_IS_QUALIFIED_NAME =
      "self.matches('" + QUALIFIED_NAME + "') && self.matches('^" + PREFIX_LENGTH + "$')";

  /** CEL, true when every key of the map {@code self} is a label key. */
  static final String KEYS_ARE_QUALIFIED_NAMES =
      "self.all(k, k.matches('" + QUALIFIED_NAME + "') && k.matches('^" + PREFIX_LENGTH + "$'))";

  /** CEL, true when every value of the map {@code self} is a label value. */
  static final String VALUES_ARE_LABEL_VALUES =
      "self.all(k, self[k].matches('" + LABEL_VALUE + "'))";

  /** Words for a label key's rule. */
  static final String QUALIFIED_NAME_WORDS =
      "an optional DNS subdomain prefix (at most 253 characters) and '/', then a name of 1 to 63"
          + " letters, digits, '-', '_' or '.' that starts and ends with a letter or digit";

  /** Words for a label value's rule. */
  static final String LABEL_VALUE_WORDS =
      "empty, or 1 to 63 letters, digits, '-', '_' or '.' that start and end with a letter or"
          + " digit";

  /** An IPv4 network in CIDR form: four decimal octets of 0-255, '/', a prefix length of 0-32. */
  static final String IPV4_CIDR =
      "^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])([.](25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}/([0-9]|[12][0-9]|3[0-2])$";

  /** An IPv4 address: four decimal octets of 0-255. */
  static final String IPV4_ADDRESS =
      "^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])([.](25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$";

  /** CEL: the prefix length of the string {@code self}, which matches {@link #IPV4_CIDR}. */
  static final String CIDR_PREFIX = "int(self.split('/')[1])";

  private static final String OCTET = "int(self.split('/')[0].split('.')[";

  /** CEL: the address of the string {@code self}, which matches {@link #IPV4_CIDR}, as an int. */
  static final String CIDR_ADDRESS =
      OCTET
          + "0]) * 16777216 + "
          + OCTET
          + "1]) * 65536 + "
          + OCTET
          + "2]) * 256 + "
          + OCTET
          + "3])";

  /**
   * CEL, true when the string {@code self} does not match {@link #IPV4_CIDR} (another rule says so)
   * or is a network address: its bits after the prefix are zero.
   */
  static final String CIDR_IS_NETWORK =
      "!self.matches('"
          + IPV4_CIDR
          + "') || ("
          + CIDR_ADDRESS
          + ") % [1, 2, 4, 8, 16, 32, 64, 128, 256,"
          + " 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288,"
          + " 1048576, 2097152, 4194304, 8388608, 16777216, 33554432, 67108864, 134217728,"
          + " 268435456, 536870912, 1073741824, 2147483648, 4294967296][32 - "
          + CIDR_PREFIX
          + "] == 0";
}
