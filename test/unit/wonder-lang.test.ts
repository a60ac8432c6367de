import assert from 'node:assert/strict';
import { wonderLangOf } from '../../workflows/verification.js';

describe("the user's language as Wonder's x-i18n-lang", function () {
  for (const [language, lang] of [
    ['en', 'en'],
    ['en-SG', 'en'],
    ['zh-HK', 'zh-HK'],
    ['zh-Hant-TW', 'zh-HK'],
    ['zh-MO', 'zh-HK'],
    ['zh', 'zh-CN'],
    ['zh-Hans-SG', 'zh-CN'],
    ['ms-MY', undefined],
    [undefined, undefined],
  ] as const) {
    it(`${language ?? 'no language'} → ${lang ?? "Wonder's default"}`, function () {
      assert.equal(wonderLangOf(language), lang);
    });
  }
});
