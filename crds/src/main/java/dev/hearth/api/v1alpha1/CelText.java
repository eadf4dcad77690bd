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
}
