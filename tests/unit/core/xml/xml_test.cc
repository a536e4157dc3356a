#include "core/xml/xml.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace hansa::xml {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSoapNs = "http://schemas.xmlsoap.org/soap/envelope/";
constexpr std::string_view kXroadNs = "http://x-road.eu/xsd/xroad.xsd";

// A fresh temporary directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("hansa_xml_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  [[nodiscard]] const fs::path& path() const { return path_; }
  void write(const std::string& name, std::string_view text) const {
    std::ofstream out(path_ / name, std::ios::binary);
    out << text;
  }

 private:
  static inline std::atomic<int> counter_{0};
  fs::path path_;
};

const char kEnvelope[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd">
  <SOAP-ENV:Header>
    <xrd:protocolVersion>4.0</xrd:protocolVersion>
    <xrd:id>abc&amp;123</xrd:id>
    <xrd:userId>EE1234</xrd:userId>
  </SOAP-ENV:Header>
  <SOAP-ENV:Body><ns1:getRandom xmlns:ns1="urn:test" a="1" ns1:b="2"><![CDATA[x<y]]>z</ns1:getRandom></SOAP-ENV:Body>
</SOAP-ENV:Envelope>)";

TEST(XmlParseTest, ReadsElementsNamespacesAttributesAndText) {
  auto doc = Document::parse(kEnvelope);
  ASSERT_TRUE(doc.ok()) << doc.error().to_string();
  Element root = doc->root();
  EXPECT_TRUE(root.is(kSoapNs, "Envelope"));
  EXPECT_EQ(root.prefix(), "SOAP-ENV");
  EXPECT_EQ(root.line(), 2);
  Element header = root.first_child(kSoapNs, "Header");
  ASSERT_TRUE(header);
  Element version = header.first_child();
  EXPECT_TRUE(version.is(kXroadNs, "protocolVersion"));
  EXPECT_EQ(version.text(), "4.0");
  EXPECT_EQ(version.parent(), header);
  Element id = version.next_sibling();
  EXPECT_EQ(id.local_name(), "id");
  EXPECT_EQ(id.namespace_uri(), kXroadNs);
  EXPECT_EQ(id.text(), "abc&123");
  EXPECT_EQ(header.next_sibling(kXroadNs, "userId"), Element());
  EXPECT_EQ(header.first_child(kXroadNs, "userId").text(), "EE1234");
  EXPECT_EQ(header.children().size(), 3U);
  EXPECT_EQ(header.children(kXroadNs, "id").size(), 1U);
  EXPECT_FALSE(header.first_child(kSoapNs, "id"));
  EXPECT_FALSE(header.has_non_blank_text_child());

  Element op = root.first_child(kSoapNs, "Body").first_child();
  EXPECT_TRUE(op.is("urn:test", "getRandom"));
  EXPECT_EQ(op.attribute("a"), "1");
  EXPECT_EQ(op.attribute("b"), std::nullopt);
  EXPECT_EQ(op.attribute("urn:test", "b"), "2");
  auto attrs = op.attributes();
  ASSERT_EQ(attrs.size(), 2U);
  EXPECT_EQ(attrs[1].namespace_uri, "urn:test");
  EXPECT_EQ(attrs[1].local_name, "b");
  EXPECT_EQ(attrs[1].value, "2");
  EXPECT_EQ(op.text(), "x<yz");
  EXPECT_TRUE(op.has_non_blank_text_child());
  EXPECT_FALSE(op.first_child());
  EXPECT_EQ(op.lookup_namespace("ns1"), "urn:test");
  EXPECT_EQ(op.lookup_namespace("xrd"), kXroadNs);
  EXPECT_EQ(op.lookup_namespace("nope"), std::nullopt);
  EXPECT_EQ(op.lookup_namespace(""), std::nullopt);
  EXPECT_EQ(op.lookup_namespace("xml"), "http://www.w3.org/XML/1998/namespace");
  EXPECT_FALSE(root.parent());
}

TEST(XmlParseTest, MalformedXmlFailsWithPosition) {
  for (std::string_view bad : {"", "<a>", "<a></b>", "<a x='1' x='2'/>", "not xml", "<a/><b/>",
                               "<p:a/>", "<a>&undefined;</a>", "<a>\xff\xfe</a>"}) {
    auto doc = Document::parse(bad);
    ASSERT_FALSE(doc.ok()) << bad;
    EXPECT_EQ(doc.error().code, FaultCode::kInvalidXml) << bad;
  }
  auto doc = Document::parse("<a>\n<b>\n</a>");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.error().detail.find("line 3"), std::string::npos) << doc.error().detail;
}

TEST(XmlParseTest, NothingIsPrintedToStderr) {
  testing::internal::CaptureStderr();
  (void)Document::parse("<a><b></a>");
  (void)Document::parse("<!DOCTYPE a [<!ENTITY x SYSTEM 'http://127.0.0.1:1/x'>]><a>&x;</a>");
  (void)select_elements(Document::parse("<a/>")->root(), "///bad[");
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST(XmlParseTest, ConcurrentParsingStaysQuietAndCorrect) {
  testing::internal::CaptureStderr();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 300; ++i) {
        auto good = Document::parse(kEnvelope);
        auto bad = Document::parse("<a><b></a>");
        if (!good.ok() || bad.ok() || bad.error().detail.find("line 1") == std::string::npos) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(failures.load(), 0);
}

TEST(XmlHostileTest, ExternalEntityIsNeverRead) {
  const std::string xxe =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
      "<r>&xxe;</r>";
  auto doc = Document::parse(xxe);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error().code, FaultCode::kInvalidXml);
  EXPECT_EQ(doc.error().to_string().find("root:"), std::string::npos);

  // Parameter entities and external DTDs are refused just the same.
  for (std::string_view s :
       {"<!DOCTYPE r SYSTEM \"file:///etc/passwd\"><r/>",
        "<!DOCTYPE r [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]><r/>", "<!DOCTYPE r><r/>"}) {
    auto d = Document::parse(s);
    ASSERT_FALSE(d.ok()) << s;
    EXPECT_EQ(d.error().code, FaultCode::kInvalidXml);
  }
}

TEST(XmlHostileTest, BillionLaughsIsRefusedQuickly) {
  std::string bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n";
  bomb += "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n";
  for (int i = 2; i <= 9; ++i) {
    bomb += "<!ENTITY lol" + std::to_string(i) + " \"";
    for (int j = 0; j < 10; ++j) {
      bomb += "&lol" + std::to_string(i - 1) + ";";
    }
    bomb += "\">\n";
  }
  bomb += "]>\n<lolz>&lol9;</lolz>";
  const auto start = std::chrono::steady_clock::now();
  auto doc = Document::parse(bomb);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error().code, FaultCode::kInvalidXml);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(XmlHostileTest, DeepNestingIsRefused) {
  std::string deep;
  for (int i = 0; i < 10000; ++i) {
    deep += "<a>";
  }
  for (int i = 0; i < 10000; ++i) {
    deep += "</a>";
  }
  auto doc = Document::parse(deep);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error().code, FaultCode::kLimitExceeded);

  ParseLimits limits;
  limits.max_depth = 3;
  EXPECT_TRUE(Document::parse("<a><b><c/></b></a>", limits).ok());
  auto too_deep = Document::parse("<a><b><c><d/></c></b></a>", limits);
  ASSERT_FALSE(too_deep.ok());
  EXPECT_EQ(too_deep.error().code, FaultCode::kLimitExceeded);
  EXPECT_NE(too_deep.error().message.find("max_depth"), std::string::npos);
}

TEST(XmlHostileTest, DocumentSizeLimitRefusesBeforeParsing) {
  ParseLimits limits;
  limits.max_document_bytes = 10;
  EXPECT_TRUE(Document::parse("<a>12</a>", limits).ok());
  auto small = Document::parse("<a>123456</a>", limits);
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.error().code, FaultCode::kLimitExceeded);

  // One real 200 MB buffer against the default limit: refused without parsing.
  std::string huge;
  huge.reserve(200U * 1024U * 1024U);
  huge = "<a>";
  huge.resize(200U * 1024U * 1024U - 4U, 'x');
  huge += "</a>";
  const auto start = std::chrono::steady_clock::now();
  auto doc = Document::parse(huge);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error().code, FaultCode::kLimitExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
}

TEST(XmlHostileTest, TextAttributeAndElementLimits) {
  ParseLimits limits;
  limits.max_text_bytes = 100;
  EXPECT_TRUE(Document::parse("<a>" + std::string(100, 'x') + "</a>", limits).ok());
  auto text = Document::parse("<a>" + std::string(101, 'x') + "</a>", limits);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code, FaultCode::kLimitExceeded);
  auto cdata = Document::parse("<a><![CDATA[" + std::string(101, 'x') + "]]></a>", limits);
  ASSERT_FALSE(cdata.ok());
  EXPECT_EQ(cdata.error().code, FaultCode::kLimitExceeded);

  auto attr_value = Document::parse("<a v='" + std::string(101, 'x') + "'/>", limits);
  ASSERT_FALSE(attr_value.ok());
  EXPECT_EQ(attr_value.error().code, FaultCode::kLimitExceeded);

  limits = ParseLimits{};
  limits.max_attributes_per_element = 2;
  EXPECT_TRUE(Document::parse("<a x='1' y='2' xmlns:p='urn:p'/>", limits).ok());
  auto attrs = Document::parse("<a x='1' y='2' z='3'/>", limits);
  ASSERT_FALSE(attrs.ok());
  EXPECT_EQ(attrs.error().code, FaultCode::kLimitExceeded);

  limits = ParseLimits{};
  limits.max_elements = 3;
  EXPECT_TRUE(Document::parse("<a><b/><c/></a>", limits).ok());
  auto many = Document::parse("<a><b/><c/><d/></a>", limits);
  ASSERT_FALSE(many.ok());
  EXPECT_EQ(many.error().code, FaultCode::kLimitExceeded);
}

// Random byte mutations of a valid message: parsing fails cleanly or yields a document that
// can be read, canonicalized and serialized (run under ASan to catch memory errors).
TEST(XmlHostileTest, MutatedInputNeverCrashes) {
  const std::string base = kEnvelope;
  std::uint32_t seed = 12345;
  auto next = [&seed] {
    seed = seed * 1103515245U + 12345U;
    return seed >> 8;
  };
  const char specials[] = "<>&;:/='\"![]?x\0\xff";
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string m = base;
    const int edits = 1 + static_cast<int>(next() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t pos = next() % m.size();
      switch (next() % 3) {
        case 0:
          m[pos] = specials[next() % (sizeof(specials) - 1)];
          break;
        case 1:
          m.erase(pos, 1 + next() % 8);
          break;
        default:
          m.insert(pos, m.substr(next() % m.size(), 1 + next() % 16));
      }
      if (m.empty()) {
        m = "<";
      }
    }
    auto doc = Document::parse(m);
    if (!doc.ok()) {
      EXPECT_TRUE(doc.error().code == FaultCode::kInvalidXml ||
                  doc.error().code == FaultCode::kLimitExceeded);
      continue;
    }
    ++parsed;
    (void)doc->serialize();
    (void)canonicalize(*doc, C14nMethod::kExclusiveC14n10);
    for (Element e = doc->root().first_child(); e; e = e.next_sibling()) {
      (void)e.text();
      (void)e.attributes();
      (void)canonicalize(e, C14nMethod::kC14n10);
    }
  }
  EXPECT_GT(parsed, 0);
}

TEST(XmlBuildTest, BuildsAndSerializesDocuments) {
  Document doc = Document::create("urn:hc", "hc:HashChain");
  Element root = doc.root();
  root.set_attribute("Id", "chain-1");
  Element step = root.append_element("urn:hc", "hc:HashStep");
  step.set_attribute("id", "STEP0");
  step.append_element("urn:hc", "hc:HashValue").set_text("a<b&c");
  Element other = root.append_element("urn:other", "o:x");
  other.set_attribute("urn:other", "o:attr", "v\"");
  Element plain = root.append_element("", "plain");
  plain.append_text("1");
  plain.append_text("2");

  EXPECT_EQ(doc.serialize(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<hc:HashChain xmlns:hc=\"urn:hc\" Id=\"chain-1\"><hc:HashStep id=\"STEP0\">"
            "<hc:HashValue>a&lt;b&amp;c</hc:HashValue></hc:HashStep>"
            "<o:x xmlns:o=\"urn:other\" o:attr=\"v&quot;\"/><plain>12</plain></hc:HashChain>\n");
  EXPECT_EQ(step.serialize(),
            "<hc:HashStep id=\"STEP0\"><hc:HashValue>a&lt;b&amp;c</hc:HashValue></hc:HashStep>");
  EXPECT_EQ(doc.serialize(false).rfind("<hc:HashChain", 0), 0U);

  auto reparsed = Document::parse(doc.serialize());
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ(reparsed->root().first_child("urn:hc", "HashStep").text(), "a<b&c");

  // Copying from another document and removing.
  auto src = Document::parse("<s:a xmlns:s='urn:s'><s:b k='1'>t</s:b></s:a>");
  ASSERT_TRUE(src.ok());
  Element copy = root.append_copy(src->root().first_child());
  EXPECT_TRUE(copy.is("urn:s", "b"));
  EXPECT_NE(doc.serialize().find("<s:b xmlns:s=\"urn:s\" k=\"1\">t</s:b>"), std::string::npos)
      << doc.serialize();
  copy.remove();
  EXPECT_FALSE(copy.valid());
  EXPECT_EQ(doc.serialize().find("s:b"), std::string::npos);

  // Bytes that are not UTF-8 do not break serialization.
  Element odd = root.append_element("", "odd");
  odd.set_text("\xff\xfe<");
  EXPECT_FALSE(doc.serialize().empty());
  EXPECT_FALSE(odd.serialize().empty());
  odd.remove();

  Document cloned = doc.clone();
  cloned.root().set_attribute("Id", "other");
  EXPECT_EQ(doc.root().attribute("Id"), "chain-1");
  EXPECT_EQ(cloned.root().attribute("Id"), "other");

  // A moved document keeps its element handles valid.
  Document moved = std::move(doc);
  EXPECT_EQ(step.attribute("id"), "STEP0");
  EXPECT_EQ(moved.root(), root);
}

// Canonicalization vectors follow the W3C C14N 1.0 / exclusive C14N recommendations.
// A document far larger than libxml2's output blocks comes out byte for byte as it went in,
// whatever size the caller reserves (less, none, more).
TEST(XmlBuildTest, LargeDocumentsSerializeWhole) {
  std::string text;
  for (int i = 0; text.size() < 300 * 1024; ++i) {
    text += "line " + std::to_string(i) + " &lt;tag&gt; &amp; \xc3\xa4\xe2\x82\xac\n";
  }
  std::string input = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  input += "<r xmlns=\"urn:r\" k=\"v&amp;\"><a>";
  input += text;
  input += "</a><b/></r>\n";
  auto doc = Document::parse(input);
  ASSERT_TRUE(doc.ok()) << doc.error().to_string();
  for (std::size_t hint : {std::size_t{0}, std::size_t{100}, input.size(), 2 * input.size()}) {
    const std::string out = doc->serialize(true, hint);
    EXPECT_EQ(out.size(), input.size()) << "hint " << hint;
    EXPECT_TRUE(out == input) << "hint " << hint;
  }
  const std::string bare = doc->serialize(false);
  EXPECT_EQ(bare, input.substr(input.find("<r ")));
}

TEST(XmlC14nTest, CanonicalizesWholeDocument) {
  const std::string input =
      "<?xml version=\"1.0\"?>\n<!-- c -->\n<doc xmlns=\"urn:d\" b='2'  a=\"1\"><e/>"
      "<!-- in --><f x=\"&lt;\">&#65;</f></doc>";
  auto doc = Document::parse(input);
  ASSERT_TRUE(doc.ok());
  auto c14n = canonicalize(*doc, C14nMethod::kC14n10);
  ASSERT_TRUE(c14n.ok());
  EXPECT_EQ(*c14n, "<doc xmlns=\"urn:d\" a=\"1\" b=\"2\"><e></e><f x=\"&lt;\">A</f></doc>");
  auto with_comments = canonicalize(*doc, C14nMethod::kC14n10WithComments);
  ASSERT_TRUE(with_comments.ok());
  EXPECT_EQ(*with_comments,
            "<!-- c -->\n<doc xmlns=\"urn:d\" a=\"1\" b=\"2\"><e></e><!-- in -->"
            "<f x=\"&lt;\">A</f></doc>");
}

TEST(XmlC14nTest, CanonicalizesSubtrees) {
  const std::string input =
      "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" xmlns:u=\"urn:unused\" "
      "xml:lang=\"et\"><ds:SignedInfo Id=\"si\"><ds:X u:attr=\"1\"/><!--c--></ds:SignedInfo>"
      "<ds:SignatureValue>AA==</ds:SignatureValue></ds:Signature>";
  auto doc = Document::parse(input);
  ASSERT_TRUE(doc.ok());
  Element si = doc->root().first_child("http://www.w3.org/2000/09/xmldsig#", "SignedInfo");
  ASSERT_TRUE(si);

  // Inclusive: every in-scope namespace and inherited xml:* attribute lands on the apex.
  auto inc = canonicalize(si, C14nMethod::kC14n10);
  ASSERT_TRUE(inc.ok());
  EXPECT_EQ(*inc,
            "<ds:SignedInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" "
            "xmlns:u=\"urn:unused\" Id=\"si\" xml:lang=\"et\"><ds:X u:attr=\"1\"></ds:X>"
            "</ds:SignedInfo>");
  auto inc_comments = canonicalize(si, C14nMethod::kC14n10WithComments);
  ASSERT_TRUE(inc_comments.ok());
  EXPECT_NE(inc_comments->find("<!--c-->"), std::string::npos);

  // Exclusive: only visibly used namespaces, where they are used.
  auto exc = canonicalize(si, C14nMethod::kExclusiveC14n10);
  ASSERT_TRUE(exc.ok());
  EXPECT_EQ(*exc,
            "<ds:SignedInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" Id=\"si\">"
            "<ds:X xmlns:u=\"urn:unused\" u:attr=\"1\"></ds:X></ds:SignedInfo>");
  // ... unless listed in the InclusiveNamespaces PrefixList.
  auto exc_prefixes = canonicalize(si, C14nMethod::kExclusiveC14n10, {"u"});
  ASSERT_TRUE(exc_prefixes.ok());
  EXPECT_EQ(*exc_prefixes,
            "<ds:SignedInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" "
            "xmlns:u=\"urn:unused\" Id=\"si\"><ds:X u:attr=\"1\"></ds:X></ds:SignedInfo>");

  EXPECT_EQ(c14n_from_uri("http://www.w3.org/2001/10/xml-exc-c14n#"), C14nMethod::kExclusiveC14n10);
  EXPECT_EQ(c14n_uri(C14nMethod::kC14n10), "http://www.w3.org/TR/2001/REC-xml-c14n-20010315");
  EXPECT_EQ(c14n_from_uri("urn:nope"), std::nullopt);
  auto c11 = canonicalize(si, C14nMethod::kC14n11);
  ASSERT_TRUE(c11.ok());
  EXPECT_EQ(*c11, *inc);
}

// canonicalize(element) copies the subtree into a document of its own, with the namespaces in
// scope declared on its root, so that libxml2 walks only the subtree. Every element of these
// documents, under every method, must canonicalize to the bytes libxml2 gives for the subtree in
// place: namespaces declared at several levels, used and unused, redeclared, a default namespace,
// namespaced attributes, comments, CDATA, escaped text, and the cases that fall back to the
// in-place walk (xml:* attributes on an ancestor, a default namespace undeclared).
TEST(XmlC14nTest, SubtreeCopyGivesTheBytesOfTheSubtreeInPlace) {
  const std::vector<std::string> inputs = {
      // A signature document shaped like the ones peers send.
      "<asic:XAdESSignatures xmlns:asic=\"http://uri.etsi.org/02918/v1.2.1#\" "
      "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" "
      "xmlns:xades=\"http://uri.etsi.org/01903/v1.3.2#\">"
      "<ds:Signature Id=\"signature\"><ds:SignedInfo>"
      "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"/>"
      "<ds:Reference URI=\"#signed-properties\" "
      "Type=\"http://uri.etsi.org/01903#SignedProperties\">"
      "<ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo>"
      "<ds:Object><xades:QualifyingProperties Target=\"#signature\"><xades:SignedProperties "
      "Id=\"signed-properties\"><xades:SigningTime>2026-11-25T00:00:00Z</xades:SigningTime>"
      "</xades:SignedProperties></xades:QualifyingProperties></ds:Object></ds:Signature>"
      "</asic:XAdESSignatures>",
      // Declarations at several levels, a prefix redeclared, a default namespace, unused ones.
      "<a:r xmlns:a=\"urn:a\" xmlns:u=\"urn:unused\" xmlns=\"urn:default\">"
      "<a:m xmlns:b=\"urn:b\" b:x=\"1\" y=\"2\"><b:n a:z=\"3\"><plain>t &amp; &lt;x&gt;</plain>"
      "<a:p xmlns:a=\"urn:a2\"><a:q/><!--in--><![CDATA[c<d]]></a:p></b:n>"
      "<other xmlns=\"urn:other\"><leaf/></other></a:m><!--out--></a:r>",
      // Falls back: an ancestor with xml:lang and xml:space.
      "<r xmlns:p=\"urn:p\" xml:lang=\"et\"><s xml:space=\"preserve\"><p:t p:a=\"1\"> x </p:t>"
      "</s></r>",
      // Falls back: the default namespace undeclared below a declaration.
      "<r xmlns=\"urn:d\"><s xmlns=\"\"><t/><u xmlns=\"urn:e\"/></s></r>",
  };
  const std::vector<std::pair<C14nMethod, std::vector<std::string>>> methods = {
      {C14nMethod::kC14n10, {}},
      {C14nMethod::kC14n10WithComments, {}},
      {C14nMethod::kExclusiveC14n10, {}},
      {C14nMethod::kExclusiveC14n10, {"u", "#default"}},
      {C14nMethod::kExclusiveC14n10WithComments, {"b"}},
      {C14nMethod::kC14n11, {}},
      {C14nMethod::kC14n11WithComments, {}},
  };
  int compared = 0;
  for (const auto& input : inputs) {
    auto doc = Document::parse(input);
    ASSERT_TRUE(doc.ok()) << input;
    std::vector<Element> elements{doc->root()};
    for (std::size_t i = 0; i < elements.size(); ++i) {
      for (const Element& child : elements[i].children()) {
        elements.push_back(child);
      }
    }
    for (const Element& e : elements) {
      for (const auto& [method, prefixes] : methods) {
        auto copied = canonicalize(e, method, prefixes);
        auto in_place = internal::canonicalize_in_place(e, method, prefixes);
        ASSERT_TRUE(copied.ok() && in_place.ok());
        EXPECT_EQ(*copied, *in_place) << e.local_name() << " in " << input;
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, 7 * (8 + 10 + 3 + 4));
}

TEST(XmlXPathTest, SelectsElementsAndStrings) {
  auto doc = Document::parse(kEnvelope);
  ASSERT_TRUE(doc.ok());
  const NamespaceBindings ns = {{"s", std::string(kSoapNs)}, {"x", std::string(kXroadNs)}};
  auto header_children = select_elements(doc->root(), "s:Header/x:*", ns);
  ASSERT_TRUE(header_children.ok()) << header_children.error().to_string();
  ASSERT_EQ(header_children->size(), 3U);
  EXPECT_EQ((*header_children)[2].local_name(), "userId");
  auto id = select_string(doc->root(), "string(/s:Envelope/s:Header/x:id)", ns);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "abc&123");
  auto count = select_string(doc->root(), "count(//x:*)", ns);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, "3");
  // Relative to a context element.
  Element header = doc->root().first_child(kSoapNs, "Header");
  auto version = select_string(header, "x:protocolVersion", ns);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, "4.0");
  auto none = select_elements(doc->root(), "//x:nothing", ns);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  auto bad = select_elements(doc->root(), "//[", ns);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, FaultCode::kInvalidXml);
  auto unbound = select_elements(doc->root(), "//q:x", ns);
  ASSERT_FALSE(unbound.ok());
  auto not_nodes = select_elements(doc->root(), "count(//x:*)", ns);
  ASSERT_FALSE(not_nodes.ok());
}

constexpr char kTypesXsd[] = R"(<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:types"
    elementFormDefault="qualified">
  <xs:simpleType name="Code"><xs:restriction base="xs:string">
    <xs:pattern value="[A-Z]+"/></xs:restriction></xs:simpleType>
</xs:schema>)";

constexpr char kMainXsd[] = R"(<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="urn:types"
    targetNamespace="urn:main" xmlns="urn:main" elementFormDefault="qualified">
  <xs:import namespace="urn:types" schemaLocation="sub/types.xsd"/>
  <xs:element name="item">
    <xs:complexType><xs:sequence>
      <xs:element name="code" type="t:Code"/>
      <xs:element name="count" type="xs:int" minOccurs="0"/>
    </xs:sequence><xs:attribute name="id" type="xs:ID" use="required"/></xs:complexType>
  </xs:element>
</xs:schema>)";

TEST(XmlSchemaTest, ValidatesWithRelativeImports) {
  TempDir dir;
  fs::create_directories(dir.path() / "sub");
  dir.write("sub/types.xsd", kTypesXsd);
  dir.write("main.xsd", kMainXsd);
  auto schema = Schema::load_file(dir.path() / "main.xsd");
  ASSERT_TRUE(schema.ok()) << schema.error().to_string();

  auto good = Document::parse("<item xmlns='urn:main' id='i1'><code>ABC</code></item>");
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(schema->validate(*good).ok());

  for (std::string_view bad :
       {"<item xmlns='urn:main' id='i1'><code>abc</code></item>",
        "<item xmlns='urn:main'><code>ABC</code></item>",
        "<item xmlns='urn:main' id='i1'><code>ABC</code><count>x</count></item>",
        "<item xmlns='urn:other' id='i1'><code>ABC</code></item>",
        "<item xmlns='urn:main' id='i1'><code>ABC</code><extra/></item>"}) {
    auto doc = Document::parse(bad);
    ASSERT_TRUE(doc.ok()) << bad;
    auto st = schema->validate(*doc);
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_EQ(st.error().code, FaultCode::kInvalidXml);
    EXPECT_NE(st.error().detail.find("line 1"), std::string::npos) << st.error().detail;
  }
}

TEST(XmlSchemaTest, LoadsSelfContainedSchemaFromMemory) {
  auto schema = Schema::load_memory(kTypesXsd);
  ASSERT_TRUE(schema.ok()) << schema.error().to_string();
  auto other = Schema::load_memory(
      "<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'>"
      "<xs:element name='n' type='xs:int'/></xs:schema>");
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->validate(*Document::parse("<n>5</n>")).ok());
  EXPECT_FALSE(other->validate(*Document::parse("<n>five</n>")).ok());
  auto broken = Schema::load_memory("<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'>");
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().code, FaultCode::kInvalidConfiguration);
}

TEST(XmlSchemaTest, OneSchemaValidatesFromManyThreads) {
  TempDir dir;
  fs::create_directories(dir.path() / "sub");
  dir.write("sub/types.xsd", kTypesXsd);
  dir.write("main.xsd", kMainXsd);
  auto schema = Schema::load_file(dir.path() / "main.xsd");
  ASSERT_TRUE(schema.ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const bool valid = (i + t) % 2 == 0;
        auto doc = Document::parse(valid ? "<item xmlns='urn:main' id='a'><code>X</code></item>"
                                         : "<item xmlns='urn:main' id='a'><code>x</code></item>");
        if (!doc.ok() || schema->validate(*doc).ok() != valid) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(failures.load(), 0);
}

TEST(XmlSchemaTest, BrokenOrRemoteSchemasFail) {
  TempDir dir;
  auto missing = Schema::load_file(dir.path() / "none.xsd");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, FaultCode::kInvalidConfiguration);

  dir.write("broken.xsd", "<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'><xs:element/>");
  EXPECT_FALSE(Schema::load_file(dir.path() / "broken.xsd").ok());

  // An import of a network location is never fetched: the type stays unresolved.
  dir.write("remote.xsd",
            "<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema' xmlns:t='urn:types'>"
            "<xs:import namespace='urn:types' schemaLocation='http://127.0.0.1:1/types.xsd'/>"
            "<xs:element name='a' type='t:Code'/></xs:schema>");
  const auto start = std::chrono::steady_clock::now();
  auto remote = Schema::load_file(dir.path() / "remote.xsd");
  EXPECT_FALSE(remote.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

}  // namespace
}  // namespace hansa::xml
