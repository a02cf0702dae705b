import { describe, expect, it } from 'vitest';
import { SluiceError, describeError } from '@sluice/core';

describe('SluiceError', () => {
  it('carries code, retryable flag, cause and context', () => {
    const cause = new Error('socket hang up');
    const e = new SluiceError('IO', 'could not read x; check the path', { retryable: true, cause, line: 3, stage: 'transform' });
    expect(e.code).toBe('IO');
    expect(e.retryable).toBe(true);
    expect(e.cause).toBe(cause);
    expect(e.line).toBe(3);
    expect(describeError(e)).toBe('IO: could not read x; check the path');
  });
});
