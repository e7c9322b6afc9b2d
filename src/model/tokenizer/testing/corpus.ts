/** Training text for the fixture vocabs: enough variety that merges span words, digits, CJK, emoji. */
export const TRAINING_TEXT = `The quick brown fox jumps over the lazy dog. It's a truth universally acknowledged,
that a single man in possession of a good fortune, must be in want of a wife. We're here; they'll go; I'd say you've done it.
function tokenize(text) {
    const words = text.split(" ");
    for (let i = 0; i < words.length; i++) {
        if (words[i] === "") continue;
    }
    return words;
}
def main():
    print("hello world")  # comment
    return 12345
Numbers 123 1234 12345 2024 2023 100 1000 10000 3.14 0.5 42 420 4200 in 2024 the population was 1234567, up from 987654 in 1999; pi is 3.14159265358979.
我爱自然语言处理。日本語のテキストとカタカナ。한국어 텍스트입니다.
Emoji: 😀 😃 👋🏽 👨‍👩‍👧 🇫🇷 ❤️ café naïve résumé Ελληνικά Русский текст العربية हिन्दी
`;

/** The texts compared with llama.cpp: each probes a place where pre-tokenizers differ. */
export const COMPARISON_TEXTS: readonly string[] = [
  '',
  'Hello world',
  'The quick brown fox jumps over the lazy dog. It was the best of times, it was the worst of times.',
  "It's I'm you're they'll we'd I've IT'S WE'RE 'quoted' don't ''",
  'function tokenize(text) {\n    const words = text.split(" ");\n\treturn words;\n}\n',
  'def main():\n    print("hi")\n\n\n    return 0\n',
  'a  b   c\t\td\n\n\n e   \n  f  ',
  'trailing spaces   ',
  '   leading spaces',
  'line\r\nwindows\r\n\r\nend',
  '1234567890 3.14159 1,000,000 x2024y 007 12 123 1234 12345',
  'in 2024 the population was 1234567',
  '我爱自然语言处理。日本語のテキストとカタカナ、ひらがな。',
  '한국어 텍스트입니다. 中文，标点！',
  '😀 😃 👋🏽 👨‍👩‍👧 🇫🇷 ❤️ 🤖🤖',
  'café naïve résumé e\u0301 a\u0300\u0301\u0302 Z\u0351\u0352a\u0353l\u0354g\u0355o',
  'Ελληνικά Русский текст العربية हिन्दी ไทย',
  'lone \uD800 surrogates \uDC00 here \uD83D',
  'nbsp\u00A0here ideo\u3000space nel\u0085x bom\uFEFFy',
  'punct!!! ... ?! ,,, ;; -- (a) [b] {c} <d> "e" `f` ~g ^h |i @j #k $l %m &n *o',
  '<｜begin▁of▁sentence｜>Hello<｜User｜>What is 2+2?<｜Assistant｜><think>four</think>4<｜end▁of▁sentence｜>',
  'text with <think> user-defined and <｜User｜> control',
  'MiXeD CaSe WORDS and camelCaseIdentifiers snake_case_names',
  'µ ÀÖ øƺ ǅ Ｆｕｌｌ ｗｉｄｔｈ ＡＢＣ！？',
  'tabs\tand\x0bvertical\x0cform\x1cfile\x1dsep',
  'emoji👋🏽joined中文mixed123abc',
  'a\n\nb \n\n c\n \n',
  '   \n\n   ',
  'x\u00A0\u00A0\u00A0y end\u3000\u3000 \u2003\u2003indent (\u00A0) !\u00A0\u00A0?',
  '中文\u3000测试。\u3000「引用」 ok\u0085\u0085ok \uFEFF\uFEFFz',
  'https://example.com/path?query=1&x=2#frag user@mail.org',
];

/** Sentences in many scripts and languages, for real vocabularies (whose merges cover them). */
export const MULTILINGUAL_TEXTS: readonly string[] = [
  'Der schnelle braune Fuchs springt über den faulen Hund. Größe, Straße, Übermäßig.',
  "L'été dernier, nous sommes allés à la plage ; c'était très agréable — n'est-ce pas ?",
  '¿Dónde está la biblioteca? ¡Qué día tan bonito! Año, niño, corazón.',
  'Tiếng Việt có dấu: Xin chào, tôi là một mô hình ngôn ngữ.',
  'Привет, как дела? Сегодня 2 декабря 2026 года, среда.',
  'Καλημέρα σας! Η γλώσσα μας είναι η ελληνική.',
  'مرحبا بالعالم، هذه جملة باللغة العربية. ١٢٣٤٥',
  'שלום עולם, זה משפט בעברית.',
  'नमस्ते दुनिया, यह हिंदी में एक वाक्य है। १२३',
  'সবাইকে শুভেচ্ছা। ভাষা আন্দোলন।',
  'สวัสดีครับ วันนี้อากาศดีมาก',
  '今日はいい天気ですね。東京タワーに行きましょう！カタカナ、ひらがな、漢字。',
  '深度求索发布了新的稀疏注意力模型，推理速度提升了百分之五十。',
  '대한민국의 수도는 서울입니다. 감사합니다!',
  'Türkçe: Iğdır, şçöğü; Polski: zażółć gęślą jaźń; Čeština: příliš žluťoučký kůň.',
  'ქართული ენა, Հայերեն լեզու, አማርኛ ቋንቋ, ᏣᎳᎩ',
  'Math: ∀x∈ℝ, x² ≥ 0; ∑ᵢ aᵢ = ∫₀¹ f(t) dt ≈ 3.14 ± 0.01 → ∞',
];
