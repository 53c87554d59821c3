package dev.steelyard.xds;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/** The names a client certificate carries: its DNS and URI subject alternative names and CN. */
final class CertificateNames {

  private static final int DNS = 2;
  private static final int URI = 6;

  private CertificateNames() {}

  static List<String> of(X509Certificate certificate) {
    java.util.Set<String> names = new java.util.LinkedHashSet<>();
    try {
      Collection<List<?>> alternatives = certificate.getSubjectAlternativeNames();
      if (alternatives != null) {
        for (List<?> alternative : alternatives) {
          int type = (Integer) alternative.get(0);
          if (type == DNS || type == URI) {
            names.add(String.valueOf(alternative.get(1)));
          }
        }
      }
    } catch (CertificateParsingException e) {
      // A certificate the handshake verified but whose extension does not parse: CN only.
    }
    try {
      for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          names.add(String.valueOf(rdn.getValue()));
        }
      }
    } catch (InvalidNameException e) {
      // No usable subject: the alternative names are all there is.
    }
    return List.copyOf(names);
  }
}
