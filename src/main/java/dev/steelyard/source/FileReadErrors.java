package dev.steelyard.source;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/**
 * Why a file could not be read, in words. The JDK's file exceptions carry only the path as their
 * message, so "steelyard: nope.yaml" said where but not what was wrong.
 */
public final class FileReadErrors {

  private FileReadErrors() {}

  /** {@code <what> <path>: <reason>}, e.g. {@code apps file nope.yaml: no such file}. */
  public static String describe(String what, Path file, IOException e) {
    return what + " " + file + ": " + reason(e);
  }

  static String reason(IOException e) {
    if (e instanceof NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof NotDirectoryException) {
      return "a part of the path is not a directory";
    }
    if (e instanceof FileSystemException fs && fs.getReason() != null) {
      return fs.getReason();
    }
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }
}
