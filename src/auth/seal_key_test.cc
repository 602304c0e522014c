// SealKey against AES-256-GCM's published test vector (so it is the real cipher, with its
// associated data), and what it refuses: another key, other associated data, any altered byte,
// key files that are malformed, readable by others, or already there.
#include "auth/seal_key.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace gpuaas {
namespace {

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

// The GCM specification's test case 16 (McGrew and Viega): 256-bit key, 96-bit IV, 60 bytes of
// plaintext and 20 of associated data.
constexpr char kKey[] = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
constexpr char kIv[] = "cafebabefacedbaddecaf888";
constexpr char kPlain[] =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e24"
    "49a6b525b16aedf5aa0de657ba637b39";
constexpr char kAad[] = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
constexpr char kCipher[] =
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b10"
    "56828838c5f61e6393ba7a0abcc9f662";
constexpr char kTag[] = "76fc6ece0f4e1768cddf8853bb2d551b";

class SealKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gpuaas-seal-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& path, const std::string& text, mode_t mode) {
    std::ofstream(path) << text;
    chmod(path.c_str(), mode);
  }
  std::string dir_;
};

TEST_F(SealKeyTest, OpensTheGcmTestVectorAndRefusesEveryAlteredByte) {
  auto key = SealKey::FromHex(kKey);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  const std::string sealed = Unhex(kIv) + Unhex(kCipher) + Unhex(kTag);
  auto plain = key->Open(sealed, Unhex(kAad));
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(*plain, Unhex(kPlain));
  for (size_t i = 0; i < sealed.size(); ++i) {  // nonce, ciphertext and tag alike
    std::string altered = sealed;
    altered[i] = static_cast<char>(altered[i] ^ 0x01);
    EXPECT_EQ(key->Open(altered, Unhex(kAad)).status().code(), Code::kFailedPrecondition) << i;
  }
  EXPECT_EQ(key->Open(sealed, "another place").status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(key->Open(sealed.substr(0, 27), Unhex(kAad)).status().code(),
            Code::kFailedPrecondition);
}

TEST_F(SealKeyTest, SealsWithAFreshNonceAndOnlyItsKeyOpens) {
  auto key = SealKey::FromHex(kKey);
  auto other = SealKey::FromHex(std::string(64, '7'));
  ASSERT_TRUE(key.ok() && other.ok());
  EXPECT_NE(key->id(), other->id());
  EXPECT_EQ(key->id().size(), 16u);
  auto a = key->Seal("registry-token", "e1/TOKEN");
  auto b = key->Seal("registry-token", "e1/TOKEN");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);  // a new nonce each time
  EXPECT_EQ(a->size(), SealKey::kNonceBytes + 14 + SealKey::kTagBytes);
  EXPECT_EQ(a->find("registry-token"), std::string::npos);
  EXPECT_EQ(*key->Open(*a, "e1/TOKEN"), "registry-token");
  EXPECT_EQ(*key->Open(*b, "e1/TOKEN"), "registry-token");
  auto wrong = other->Open(*a, "e1/TOKEN");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find(other->id()), std::string::npos);
  EXPECT_EQ(key->Open(*a, "e2/TOKEN").status().code(), Code::kFailedPrecondition);
  auto empty = key->Seal("", "x");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*key->Open(*empty, "x"), "");
}

TEST_F(SealKeyTest, KeyFilesAreCreatedPrivateAndReadBack) {
  const std::string path = dir_ + "/secrets.key";
  EXPECT_EQ(SealKey::Load(path).status().code(), Code::kNotFound);
  auto made = SealKey::Create(path);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 65);  // 64 hex digits and a newline
  auto read = SealKey::Load(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->id(), made->id());
  auto sealed = made->Seal("v", "p");
  EXPECT_EQ(*read->Open(*sealed, "p"), "v");
  // Never replaced; a second key differs.
  EXPECT_EQ(SealKey::Create(path).status().code(), Code::kConflict);
  EXPECT_EQ(SealKey::Load(path)->id(), made->id());
  auto second = SealKey::Create(dir_ + "/other.key");
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->id(), made->id());
}

TEST_F(SealKeyTest, RefusesKeysThatAreMalformedOrReadableByOthers) {
  EXPECT_EQ(SealKey::FromHex("abc").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(SealKey::FromHex(std::string(63, 'a') + "g").status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(SealKey::FromHex("  " + std::string(64, 'A') + "\n").ok());
  EXPECT_EQ(SealKey::FromHex(std::string(64, 'A'))->id(),
            SealKey::FromHex(std::string(64, 'a'))->id());
  const std::string path = dir_ + "/k";
  Write(path, std::string(64, 'b') + "\n", 0644);
  auto open = SealKey::Load(path);
  ASSERT_EQ(open.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(open.status().message().find("chmod 600"), std::string::npos);
  chmod(path.c_str(), 0600);
  EXPECT_TRUE(SealKey::Load(path).ok());
  Write(path, "not a key\n", 0600);
  auto bad = SealKey::Load(path);
  ASSERT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find(path), std::string::npos);
  EXPECT_EQ(SealKey::Load(dir_).status().code(), Code::kInvalidArgument);  // a directory
}

}  // namespace
}  // namespace gpuaas
