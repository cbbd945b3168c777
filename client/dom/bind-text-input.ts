/**
 * Binds an `<input>` or `<textarea>` to a Y.Text both ways: typing becomes the smallest Yjs edit (one delete and
 * one insert around the common prefix and suffix, so concurrent edits elsewhere in the text merge), and remote
 * changes update the field while keeping the user's selection where it was in the text. Returns the unbind function.
 */
import type * as Y from 'yjs';

/**
 * Where `index` (in the text before a change) is after it, given the change as a Yjs delta: retains and deletes
 * walk the old text; text inserted before the index pushes it right, text deleted before it pulls it left.
 */
function mapIndex(index: number, delta: Y.YTextEvent['delta']): number {
  let oldPos = 0;
  let shift = 0;
  for (const op of delta) {
    if (oldPos >= index) break;
    if (op.retain !== undefined) {
      oldPos += op.retain;
    } else if (op.insert !== undefined) {
      shift += typeof op.insert === 'string' ? op.insert.length : 1;
    } else if (op.delete !== undefined) {
      shift -= Math.min(op.delete, index - oldPos);
      oldPos += op.delete;
    }
  }
  return index + shift;
}

export function bindTextInput(field: HTMLInputElement | HTMLTextAreaElement, text: Y.Text): () => void {
  const origin = Symbol('bindTextInput');
  let value = text.toString();
  field.value = value;

  const applyLocal = () => {
    const next = field.value;
    if (next === value) return;
    let start = 0;
    while (start < value.length && start < next.length && value[start] === next[start]) start++;
    let end = 0;
    while (end < value.length - start && end < next.length - start && value[value.length - 1 - end] === next[next.length - 1 - end]) end++;
    text.doc?.transact(() => {
      text.delete(start, value.length - start - end);
      text.insert(start, next.slice(start, next.length - end));
    }, origin);
    value = next;
  };
  const onInput = (event: Event) => {
    if (!(event as InputEvent).isComposing) applyLocal();
  };
  const onRemote = (event: Y.YTextEvent, transaction: Y.Transaction) => {
    if (transaction.origin === origin) return;
    const focused = field.ownerDocument.activeElement === field;
    const selection = [field.selectionStart ?? 0, field.selectionEnd ?? 0].map((i) => mapIndex(i, event.delta));
    value = text.toString();
    field.value = value;
    if (focused) field.setSelectionRange(selection[0]!, selection[1]!);
  };

  field.addEventListener('input', onInput);
  field.addEventListener('compositionend', applyLocal);
  text.observe(onRemote);
  return () => {
    field.removeEventListener('input', onInput);
    field.removeEventListener('compositionend', applyLocal);
    text.unobserve(onRemote);
  };
}
