import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { insideRoot, linkCitations } from '../../src/askLinks';

describe('citation links in an answer', () => {
  it('a path:line in code or text becomes a link with its path and line', () => {
    const html = linkCitations('<p>See <code>payments/webhooks.py:7</code> and retry.py:12.</p>');
    assert.match(html, /<code><a href="#" class="kura-cite" data-path="payments\/webhooks.py" data-line="7"[^>]*>payments\/webhooks.py:7<\/a><\/code>/);
    assert.match(html, /data-path="retry.py" data-line="12"/);
  });

  it('code blocks, existing links, URLs and bare numbers are left alone', () => {
    const html = '<pre><code>x = a.py:3\n</code></pre><p><a href="https://x.org/a.py:4">a.py:4</a> http://h.io/b.go:5 at 10:30</p>';
    assert.equal(linkCitations(html), html);
  });

  it('a cited path resolves inside the workspace only', () => {
    assert.equal(insideRoot('/w/repo/', 'shop/app.py'), '/w/repo/shop/app.py');
    assert.equal(insideRoot('/w/repo', '../etc/passwd'), undefined);
    assert.equal(insideRoot('/w/repo', '/etc/passwd'), undefined);
    assert.equal(insideRoot('/w/repo', 'C:/x.py'), undefined);
  });
});
