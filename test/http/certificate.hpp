// A self-signed certificate made by the tests themselves, with OpenSSL.
#ifndef ASIOCTX_TEST_HTTP_CERTIFICATE_HPP
#define ASIOCTX_TEST_HTTP_CERTIFICATE_HPP

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <string>
#include <utility>

namespace test {

// A self-signed certificate for "localhost" and its key, as PEM, made with OpenSSL.
inline std::pair<std::string, std::string> self_signed_localhost()
{
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<unsigned char const*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, key, EVP_sha256());
    auto pem = [](auto write) {
        BIO* bio = BIO_new(BIO_s_mem());
        write(bio);
        char* data = nullptr;
        long len = BIO_get_mem_data(bio, &data);
        std::string out(data, static_cast<std::size_t>(len));
        BIO_free(bio);
        return out;
    };
    auto cert_pem = pem([&](BIO* b) { PEM_write_bio_X509(b, cert); });
    auto key_pem = pem([&](BIO* b) { PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); });
    X509_free(cert);
    EVP_PKEY_free(key);
    return {cert_pem, key_pem};
}

} // namespace test

#endif
