package dev.steelyard.it;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** A test CA that issues certificates as PEM files (keys in PKCS#8), valid for a day. */
public final class TestCertificates {

  /** A certificate and its key, as files. */
  public record Issued(Path certificate, Path privateKey) {}

  private static final AtomicLong SERIALS = new AtomicLong(System.currentTimeMillis());

  private final Path dir;
  private final KeyPair caKeys;
  private final X509Certificate ca;
  public final Path caFile;

  public TestCertificates(Path dir, String caName) throws Exception {
    this.dir = dir;
    this.caKeys = keys();
    X500Name name = new X500Name("CN=" + caName);
    JcaX509v3CertificateBuilder builder = builder(name, name, caKeys);
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    this.ca = sign(builder, caKeys);
    this.caFile = write(caName + "-ca.pem", ca);
  }

  /** A certificate for {@code dnsNames} (the first also its CN), signed by this CA. */
  public Issued issue(String... dnsNames) throws Exception {
    KeyPair keys = keys();
    JcaX509v3CertificateBuilder builder = builder(
        new X500Name(ca.getSubjectX500Principal().getName()),
        new X500Name("CN=" + dnsNames[0]), keys);
    GeneralName[] names = new GeneralName[dnsNames.length + 1];
    for (int i = 0; i < dnsNames.length; i++) {
      names[i] = new GeneralName(GeneralName.dNSName, dnsNames[i]);
    }
    names[dnsNames.length] = new GeneralName(GeneralName.iPAddress, "127.0.0.1");
    builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
    X509Certificate certificate = sign(builder, caKeys);
    Path cert = write(dnsNames[0] + ".pem", certificate);
    StringWriter key = new StringWriter();
    try (JcaPEMWriter pem = new JcaPEMWriter(key)) {
      pem.writeObject(new JcaPKCS8Generator(keys.getPrivate(), null));
    }
    Path keyFile = dir.resolve(dnsNames[0] + "-key.pem");
    Files.writeString(keyFile, key.toString());
    return new Issued(cert, keyFile);
  }

  private static JcaX509v3CertificateBuilder builder(X500Name issuer, X500Name subject,
      KeyPair keys) {
    Instant now = Instant.now();
    return new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIALS.incrementAndGet()),
        Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(Duration.ofDays(1))),
        subject, keys.getPublic());
  }

  private static X509Certificate sign(JcaX509v3CertificateBuilder builder, KeyPair signer)
      throws Exception {
    return new JcaX509CertificateConverter().getCertificate(builder.build(
        new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
  }

  private Path write(String file, X509Certificate certificate) throws IOException {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter pem = new JcaPEMWriter(text)) {
      pem.writeObject(certificate);
    }
    Path path = dir.resolve(file);
    Files.writeString(path, text.toString());
    return path;
  }

  private static KeyPair keys() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(256);
    return generator.generateKeyPair();
  }
}
