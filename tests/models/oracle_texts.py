"""The strings the tokenizer oracles (tokenizer_oracle.py, tokenizer_oracle_gemma.py)
encode: the places where tokenizers disagree in practice. Plain text only;
each oracle adds the special-token strings of its own vocabulary."""

TRICKY_TEXTS = [
    # whitespace: runs, leading/trailing, tabs, newlines, CR, other Unicode spaces
    "", " ", "  ", "\n", "Hello", "Hello world", "Hello, world!", " Hello world", "hello   ", "   leading spaces",
    "two  spaces  between", "The quick brown fox jumps over the lazy dog.",
    "Tabs\tand\nnewlines\r\nand\n\n\nblank lines\n", "trailing newline\n", " \n \n ", "\t\t\tindent",
    # numbers
    "12345", "3.14159", "1,000,000 and 42", "version 2.0.1-beta", "abc123def", "x=1;y=22;z=333;w=4444",
    # contractions and quotes
    "I'm you're we've they'll he'd she's it't", "DON'T SHOUT 'S 'RE", "'quoted' and \"double\"",
    # code
    "def f(x):\n    return x**2 + 1\n", "int main() { return 0; }", "std::vector<int> v{1, 2, 3};",
    "if (a && b || !c) { x += 1; }", "https://huggingface.co/HuggingFaceTB/SmolLM2-135M?x=1&y=2",
    "!!!???...", "$$$ %%% ^^^ ~~~", "— “curly” ‘quotes’ … •", "email@example.com #hashtag @mention",
    # accents (precomposed and combining), scripts
    "café naïve résumé", "Über Straße façade", "e\u0301 combining acute", "日本語のテキスト", "中文测试，标点。",
    "한국어 문장", "Привет, мир!", "مرحبا بالعالم", "עברית", "ελληνικά",
    # emoji: skin tones, flags, ZWJ sequences, variation selectors
    "emoji 😀👍🏽 🇫🇷 ❤️", "family 👨\u200d👩\u200d👧\u200d👦 and 👩🏽\u200d💻", "flags 🇯🇵🇺🇸🏳️\u200d🌈",
    "½ ² ٣ Ⅻ ⑤", "nbsp\u00a0here", "ideographic\u3000space", "zero\u200bwidth", "vertical\u000btab\u000cfeed",
    # rare characters most vocabularies lack (SentencePiece byte fallback)
    "control \u0001\u0002\u001f bytes", "private use \ue000\uf8ff \U000f0000\U0010fffd",
    "unassigned \u0378 and rare \ua66e 𓀀", "cuneiform 𒀀𒀁 linear b 𐀀",
    "tags \U000e0041\U000e0042", "ext-b 𠀀𪜀",
    "antidisestablishmentarianism", "aaaaaaaaaaaaaaaaaaaa", "      many spaces      ",
]
