import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { progressTail } from '../../src/generateText';
import { ServerCommand } from '../../src/protocol';

interface Pkg {
  contributes: {
    commands: { command: string; title: string; category: string }[];
    menus: { 'editor/context': { command: string }[]; commandPalette: { command: string; when?: string }[] };
  };
}

describe('kura: Generate/Edit…', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as Pkg;

  it('is a palette and editor-menu command whose id is not the server command it runs', () => {
    const command = pkg.contributes.commands.find((c) => c.title === 'Generate/Edit…');
    assert.equal(command?.category, 'kura');
    assert.notEqual(command?.command, ServerCommand.generate);
    assert.ok(pkg.contributes.menus['editor/context'].some((m) => m.command === command?.command));
    assert.ok(pkg.contributes.menus.commandPalette.some((m) => m.command === command?.command && m.when === 'editorIsOpen'));
  });

  it('has a cloud variant in the palette and the editor menu that runs the cloud server command', () => {
    const cloud = pkg.contributes.commands.find((c) => c.title === 'Generate/Edit with cloud (sanitized)…');
    assert.ok(cloud && cloud.command !== ServerCommand.generateCloud);
    assert.ok(pkg.contributes.menus['editor/context'].some((m) => m.command === cloud.command));
    assert.ok(pkg.contributes.menus.commandPalette.some((m) => m.command === cloud.command));
  });

  it('shows the last line of the streamed answer as the progress message', () => {
    assert.equal(progressTail('```python\ndef add(a, b):\n    return a + b\n\n'), 'return a + b');
    assert.equal(progressTail(''), '');
    assert.equal(progressTail(`x = "${'a'.repeat(200)}"`, 20).length, 20);
    assert.ok(progressTail(`x = "${'a'.repeat(200)}"`, 20).startsWith('…'));
  });
});
