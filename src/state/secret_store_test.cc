// SecretStore on disk: values sealed under the key file (never in the clear), the earlier
// plaintext format sealed on its first load, key rotation with previous_key_file, and the
// refusals that keep a store from being used with the wrong key or with a value moved or
// altered — in every case nothing is loaded and the file is left as it was.
#include "state/secret_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "base/base64.h"

#pragma GCC diagnostic ignored "-Wdangling-pointer"
#include <boost/json.hpp>

namespace gpuaas {
namespace {

namespace json = boost::json;

constexpr char kValue[] = "registry-token-8f2a61";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class SecretStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gpuaas-secrets-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/secrets.json";
    key_ = dir_ + "/secrets.key";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
    chmod(path.c_str(), 0600);
  }
  // A store with REGISTRY_TOKEN (entity 3) and OTHER (entity 4) saved under key_.
  void Fill() {
    SecretStore s(path_, key_);
    ASSERT_TRUE(s.Load().ok());
    ASSERT_TRUE(s.Put(3, "REGISTRY_TOKEN", kValue, 1000).ok());
    ASSERT_TRUE(s.Put(4, "OTHER", "other-value", 2000).ok());
  }
  std::string dir_, path_, key_;
};

TEST_F(SecretStoreTest, ValuesAreSealedUnderAKeyMadeOnFirstLoad) {
  Fill();
  struct stat st;
  ASSERT_EQ(stat(key_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string text = ReadAll(path_);
  EXPECT_EQ(text.find(kValue), std::string::npos);
  EXPECT_EQ(text.find("other-value"), std::string::npos);
  const json::value doc = json::parse(text);
  EXPECT_EQ(doc.at("format").as_string(), "gpuaas-secrets/2");
  EXPECT_EQ(doc.at("cipher").as_string(), "AES-256-GCM");
  const std::string id(doc.at("key_id").as_string());
  EXPECT_EQ(id, SealKey::Load(key_)->id());
  EXPECT_EQ(ReadAll(key_).find(kValue), std::string::npos);

  SecretStore again(path_, key_);
  ASSERT_TRUE(again.Load().ok());
  EXPECT_EQ(again.key_id(), id);
  EXPECT_EQ(again.Value(3, "REGISTRY_TOKEN"), kValue);
  EXPECT_EQ(again.Value(4, "OTHER"), "other-value");
  ASSERT_EQ(again.List(3).size(), 1u);
  EXPECT_EQ(again.List(3)[0].created_at, 1000);
  EXPECT_EQ(again.List(3)[0].size, static_cast<int64_t>(sizeof kValue - 1));
  // The default key file is beside the store.
  SecretStore beside(dir_ + "/b.json");
  ASSERT_TRUE(beside.Load().ok());
  ASSERT_TRUE(beside.Put(1, "A", "v", 0).ok());
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/b.json.key"));
}

TEST_F(SecretStoreTest, APlaintextStoreOfTheEarlierFormatIsSealedOnLoad) {
  Write(path_, std::string(R"({"entities":{"3":{"REGISTRY_TOKEN":{"value":")") + kValue +
                   R"(","created_at":1000}}}})");
  SecretStore s(path_, key_);
  ASSERT_TRUE(s.Load().ok());
  EXPECT_EQ(s.Value(3, "REGISTRY_TOKEN"), kValue);
  const std::string text = ReadAll(path_);
  EXPECT_EQ(text.find(kValue), std::string::npos);
  EXPECT_NE(text.find(s.key_id()), std::string::npos);
  SecretStore again(path_, key_);
  ASSERT_TRUE(again.Load().ok());
  EXPECT_EQ(again.Value(3, "REGISTRY_TOKEN"), kValue);
}

TEST_F(SecretStoreTest, ASealedStoreWithoutItsKeyOrWithAnotherIsRefusedAndKept) {
  Fill();
  const std::string sealed = ReadAll(path_);
  const std::string id = SealKey::Load(key_)->id();
  std::filesystem::rename(key_, dir_ + "/elsewhere.key");
  SecretStore missing(path_, key_);
  Status s = missing.Load();
  ASSERT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find(id), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(key_), std::string::npos) << s.message();
  EXPECT_FALSE(std::filesystem::exists(key_));  // no new key made over the old one's store
  EXPECT_FALSE(missing.Value(3, "REGISTRY_TOKEN"));
  EXPECT_EQ(missing.Put(3, "NEW", "x", 0).code(), Code::kFailedPrecondition);

  auto other = SealKey::Create(key_);
  ASSERT_TRUE(other.ok());
  SecretStore wrong(path_, key_);
  s = wrong.Load();
  ASSERT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find(id), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(other->id()), std::string::npos) << s.message();
  EXPECT_FALSE(wrong.Value(3, "REGISTRY_TOKEN"));
  EXPECT_EQ(ReadAll(path_), sealed);
}

TEST_F(SecretStoreTest, RotationSealsAgainWithTheNewKey) {
  Fill();
  const std::string old_id = SealKey::Load(key_)->id();
  const std::string old_key = dir_ + "/secrets.key.old";
  std::filesystem::rename(key_, old_key);
  // The new key is made, the store opened with the old one and sealed again with the new one.
  SecretStore rotating(path_, key_, old_key);
  ASSERT_TRUE(rotating.Load().ok());
  EXPECT_NE(rotating.key_id(), old_id);
  EXPECT_EQ(rotating.Value(3, "REGISTRY_TOKEN"), kValue);
  EXPECT_NE(ReadAll(path_).find(rotating.key_id()), std::string::npos);
  // Afterwards the old key is not needed, and no longer opens the store.
  SecretStore after(path_, key_);
  ASSERT_TRUE(after.Load().ok());
  EXPECT_EQ(after.Value(4, "OTHER"), "other-value");
  SecretStore old_only(path_, old_key);
  EXPECT_EQ(old_only.Load().code(), Code::kFailedPrecondition);
  // A previous key that is not the store's is refused, naming the three keys.
  auto unrelated = SealKey::Create(dir_ + "/unrelated.key");
  ASSERT_TRUE(unrelated.ok());
  SecretStore confused(path_, old_key, dir_ + "/unrelated.key");
  Status s = confused.Load();
  ASSERT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find(unrelated->id()), std::string::npos) << s.message();
}

TEST_F(SecretStoreTest, AValueMovedToAnotherNameOrAlteredDoesNotOpen) {
  Fill();
  json::value doc = json::parse(ReadAll(path_));
  json::object& entities = doc.at("entities").as_object();
  // Entity 4's sealed value put under entity 3's name: bound to its place, it does not open.
  json::value moved = doc;
  moved.at("entities").at("3").at("REGISTRY_TOKEN").at("sealed") =
      entities.at("4").at("OTHER").at("sealed");
  Write(path_, json::serialize(moved));
  SecretStore s1(path_, key_);
  Status s = s1.Load();
  ASSERT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("REGISTRY_TOKEN"), std::string::npos) << s.message();
  EXPECT_FALSE(s1.Value(4, "OTHER"));  // nothing is loaded
  // One bit changed.
  std::string bytes = *Base64Decode(entities.at("3").at("REGISTRY_TOKEN").at("sealed").as_string());
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x40);
  json::value altered = doc;
  altered.at("entities").at("3").at("REGISTRY_TOKEN").at("sealed") = Base64Encode(bytes);
  Write(path_, json::serialize(altered));
  SecretStore s2(path_, key_);
  EXPECT_EQ(s2.Load().code(), Code::kFailedPrecondition);
  // Put back as it was, it opens.
  Write(path_, json::serialize(doc));
  SecretStore s3(path_, key_);
  ASSERT_TRUE(s3.Load().ok());
  EXPECT_EQ(s3.Value(3, "REGISTRY_TOKEN"), kValue);
}

TEST_F(SecretStoreTest, AKeyFileOthersMayReadIsRefused) {
  Fill();
  chmod(key_.c_str(), 0640);
  SecretStore s(path_, key_);
  Status st = s.Load();
  ASSERT_EQ(st.code(), Code::kFailedPrecondition);
  EXPECT_NE(st.message().find("chmod 600"), std::string::npos);
  Write(path_, R"({"format":"gpuaas-secrets/9","key_id":"x","entities":{}})");
  chmod(key_.c_str(), 0600);
  EXPECT_EQ(s.Load().code(), Code::kInternal);  // a format of another version
}

}  // namespace
}  // namespace gpuaas
