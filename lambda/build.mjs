// Placeholder until the extract handler lands (issue 3).
console.log('lambda: nothing to bundle yet');
