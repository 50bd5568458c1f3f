// tessera-run on the tiny llama: --prompt-tokens with --json and
// --dump-logits (the oracle's invocation), and its exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "tests/models/tiny_llama.h"

namespace {

struct Result {
  int code;
  std::string out;
};

Result run(const std::string& args, const std::string& stderr_to = "/dev/null") {
  const std::string cmd = std::string(TESSERA_RUN_PATH) + " " + args + " 2>" + stderr_to;
  Result r{-1, ""};
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class RunTool : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "run_tool_tiny_" + std::to_string(::getpid()) + ".gguf";
    ASSERT_TRUE(tessera::test::write_tiny_llama(path_));
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string path_;
};

TEST_F(RunTool, json_and_logits_dump_for_prompt_tokens) {
  const std::string logits = path_ + ".logits";
  const Result r =
      run("-m " + path_ + " --prompt-tokens 5,72,101,108 -n 6 --temp 0 --threads 1 --dump-logits " + logits +
          " --json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.find("{\"model\""), 0u) << "stdout carries only the JSON object: " << r.out;
  EXPECT_NE(r.out.find("\"n_prompt\": 4"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"tokens\": ["), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"text\": "), std::string::npos) << r.out;
  std::ifstream f(logits, std::ios::binary | std::ios::ate);
  EXPECT_EQ(static_cast<int64_t>(f.tellg()), 4 * 261 * 4) << "f32 [n_prompt, n_vocab]";
  std::remove(logits.c_str());
}

// A redirected log gets no progress-bar frames (carriage returns), with
// --json or without; the statistics still go there.
TEST_F(RunTool, no_progress_bar_when_stderr_is_not_a_terminal) {
  const std::string log = path_ + ".stderr";
  for (const char* extra : {"", " --json"}) {
    const Result r = run("-m " + path_ + " -p hello -n 2 --temp 0 --threads 1" + std::string(extra), log);
    ASSERT_EQ(r.code, 0) << r.out;
    std::ifstream f(log, std::ios::binary);
    const std::string err((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_EQ(err.find('\r'), std::string::npos) << "with '" << extra << "': " << err;
    EXPECT_EQ(err.find("loading ["), std::string::npos) << err;
    EXPECT_FALSE(err.empty()) << "statistics still go to stderr";
  }
  std::remove(log.c_str());
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// --chat-template NAME picks the template; the prompt's token ids in --json
// show what was rendered. The tiny vocabulary is GPT-2's bytes (id = byte)
// plus <|endoftext|> 258 (its BOS), <|im_start|> 259, <|im_end|> 260.
TEST_F(RunTool, chat_template_by_name) {
  tessera::test::TinyLlamaConfig c;
  c.chat_template = "";  // general.architecture "llama" alone determines no template
  ASSERT_TRUE(tessera::test::write_tiny_llama(path_, c));
  const std::string log = path_ + ".stderr";
  const std::string common = "-m " + path_ + " -p hi -n 1 --temp 0 --threads 1 --json";

  Result r = run(common + " --chat", log);
  EXPECT_EQ(r.code, 1);
  std::string err = read_file(log);
  EXPECT_NE(err.find("no chat template"), std::string::npos) << err;
  EXPECT_NE(err.find("'llama'"), std::string::npos) << err;
  EXPECT_NE(err.find("chatml, gemma, llama3"), std::string::npos) << err;

  // "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
  r = run(common + " --chat-template chatml", log);
  ASSERT_EQ(r.code, 0) << read_file(log);
  EXPECT_NE(
      r.out.find("\"prompt_tokens\": [259, 117, 115, 101, 114, 10, 104, 105, 260, 10, 259, 97, 115, 115, "
                 "105, 115, 116, 97, 110, 116, 10]"),
      std::string::npos)
      << r.out;

  // "<|endoftext|><start_of_turn>user\nhi<end_of_turn>\n...": bos_token is the
  // model's BOS, and tokenizing with add_bos does not add a second one.
  r = run(common + " --chat-template gemma", log);
  ASSERT_EQ(r.code, 0) << read_file(log);
  EXPECT_NE(
      r.out.find("\"prompt_tokens\": [258, 60, 115, 116, 97, 114, 116, 95, 111, 102, 95, 116, 117, 114, "
                 "110, 62, 117, 115, 101, 114, 10, 104, 105, 60, 101, 110, 100, 95"),
      std::string::npos)
      << r.out;

  r = run(common + " --chat-template vicuna", log);
  EXPECT_EQ(r.code, 1);
  err = read_file(log);
  EXPECT_NE(err.find("'vicuna'"), std::string::npos) << err;
  EXPECT_NE(err.find("chatml, gemma, llama3"), std::string::npos) << err;

  EXPECT_EQ(run("-m " + path_ + " --prompt-tokens 1,2 --chat-template chatml").code, 2);
  EXPECT_EQ(run("-m " + path_ + " -p hi --chat-template").code, 2) << "needs a value";
  std::remove(log.c_str());
}

TEST_F(RunTool, exit_codes) {
  EXPECT_EQ(run("").code, 2) << "no model";
  EXPECT_EQ(run("-m " + path_ + " -p hi --temp hot").code, 2);
  EXPECT_EQ(run("-m /nonexistent.gguf -p hi").code, 1);
  EXPECT_EQ(run("-m " + path_ + " -p hi --device no-such-device").code, 1);
  EXPECT_EQ(run("-m " + path_ + " --prompt-tokens 1,2,3,4,5,6,7,8,9,10 --ctx 8").code, 1);
  EXPECT_EQ(run("-m " + path_ + " -p hello -n 3 --seed 1").code, 0);
}

// Where generation ends is said: finish_reason in the JSON, and a message on
// stderr when the context filled (the run still succeeds: the text so far is
// the output).
TEST_F(RunTool, finish_reason_and_a_full_context_message) {
  const std::string err = path_ + ".stderr";
  Result r = run("-m " + path_ + " --prompt-tokens 5,72,101,108 -n 3 --temp 0 --json", err);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"finish_reason\": \"length\""), std::string::npos) << r.out;

  r = run("-m " + path_ + " --prompt-tokens 5,72,101,108 -n 100 --ctx 12 --temp 0 --ignore-eos --json", err);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"finish_reason\": \"context_full\""), std::string::npos) << r.out;
  std::ifstream f(err);
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("the context is full (n_ctx 12): generation stopped after 9 tokens"), std::string::npos)
      << text;
  std::remove(err.c_str());
}

TEST_F(RunTool, flags_files_and_unlimited_length) {
  const std::string err = path_ + ".stderr";
  auto stderr_text = [&] {
    std::ifstream f(err);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  };
  // An unknown flag is called unknown, also as the last argument.
  EXPECT_EQ(run("-m " + path_ + " -p hi --verbose", err).code, 2);
  EXPECT_NE(stderr_text().find("unknown option --verbose"), std::string::npos) << stderr_text();
  EXPECT_EQ(run("-m " + path_ + " -p hi -n", err).code, 2);
  EXPECT_NE(stderr_text().find("-n needs a value"), std::string::npos) << stderr_text();
  // --system has nowhere to go without a chat template.
  EXPECT_EQ(run("-m " + path_ + " -p hi --system be-brief", err).code, 2);
  EXPECT_NE(stderr_text().find("--system needs --chat"), std::string::npos) << stderr_text();
  // -f FILE gives what -p gives with the file's text.
  const std::string prompt = path_ + ".prompt";
  std::ofstream(prompt) << "hello world";
  const Result from_p = run("-m " + path_ + " -p 'hello world' -n 5 --temp 0 --json");
  const Result from_f = run("-m " + path_ + " -f " + prompt + " -n 5 --temp 0 --json");
  ASSERT_EQ(from_f.code, 0) << from_f.out;
  auto tokens = [](const std::string& json) { return json.substr(json.find("\"tokens\"")); };
  EXPECT_EQ(tokens(from_f.out), tokens(from_p.out));
  EXPECT_EQ(run("-m " + path_ + " -f /nonexistent/prompt.txt", err).code, 1);
  EXPECT_NE(stderr_text().find("/nonexistent/prompt.txt"), std::string::npos) << stderr_text();
  std::remove(prompt.c_str());
  // -n -1 runs until the context is full.
  const Result unlimited =
      run("-m " + path_ + " --prompt-tokens 5,72,101 -n -1 --ctx 20 --temp 0 --ignore-eos --json");
  ASSERT_EQ(unlimited.code, 0) << unlimited.out;
  EXPECT_NE(unlimited.out.find("\"finish_reason\": \"context_full\""), std::string::npos) << unlimited.out;
  EXPECT_NE(unlimited.out.find("\"n_generated\": 18"), std::string::npos) << unlimited.out;
  // --version names the tool, the library version and the commit.
  const Result version = run("--version");
  EXPECT_EQ(version.code, 0);
  EXPECT_EQ(version.out.find("tessera-run 0."), 0u) << version.out;
  EXPECT_NE(version.out.find("(commit "), std::string::npos) << version.out;
  std::remove(err.c_str());
}

}  // namespace
