import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { MissingKeyError, renderTemplate, y } from '../lib/render/mustache.ts';

const render = suite('render: strict Mustache');
render('HTML escaping is off: slashes and quotes come through as written', () => {
  assert.is(renderTemplate('t', 'image: {{image}}', { image: 'ghcr.io/a/b:c' }), 'image: ghcr.io/a/b:c');
  assert.is(renderTemplate('t', 'v: {{v}}', { v: '<a & "b">' }), 'v: <a & "b">');
});
render('a key the view does not define is an error, not an empty string', () => {
  assert.throws(
    () => renderTemplate('t', 'image: {{imgae}}', { image: 'x' }),
    (e: Error) => e instanceof MissingKeyError && /uses \{\{imgae\}\}/.test(e.message),
  );
});
render('undefined section and inverted-section keys are errors too', () => {
  assert.throws(
    () => renderTemplate('t', '{{#persistance}}x{{/persistance}}', { persistence: true }),
    (e: Error) => e instanceof MissingKeyError,
  );
  assert.throws(
    () => renderTemplate('t', '{{^persistance}}x{{/persistance}}', { persistence: true }),
    (e: Error) => e instanceof MissingKeyError,
  );
});
render('false sections render nothing without an error', () => {
  assert.is(renderTemplate('t', 'a{{#on}}b{{/on}}c', { on: false }), 'ac');
});
render('keys missing in partials are caught as well', () => {
  assert.throws(
    () => renderTemplate('t', 'x:\n  {{> labels}}', {}, { labels: 'name: {{name}}' }),
    (e: Error) => e instanceof MissingKeyError,
  );
});
render('y() quotes values so they cannot break the document', () => {
  const hostile = 'a: b\n- c #d';
  const out = renderTemplate('t', 'value: {{v}}\nother: 1', { v: y(hostile) });
  assert.equal(parse(out), { value: hostile, other: 1 });
});
render.run();
