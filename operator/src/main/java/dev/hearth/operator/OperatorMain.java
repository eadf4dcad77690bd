package dev.hearth.operator;

/**
 * The operator process: {@code java -jar hearth-operator.jar [options]}; see {@link
 * OperatorCommand} for the options and their {@code HEARTH_*} variables.
 */
public final class OperatorMain {
  private OperatorMain() {}

  public static void main(String[] args) {
    System.exit(OperatorCommand.commandLine().execute(args));
  }
}
