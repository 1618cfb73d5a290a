import { classifyTitle } from '../src/intelligence/seniority';
import { memoiseByString } from '../src/memoise';
import { parseLocation } from '../src/snapshots/location';

describe('memoiseByString', () => {
  it('computes each distinct input once, and shares a frozen result', () => {
    const inputs: string[] = [];
    const lengthOf = memoiseByString((input: string) => {
      inputs.push(input);
      return { length: input.length };
    });
    const first = lengthOf('Berlin');
    expect(lengthOf('Berlin')).toBe(first);
    expect(lengthOf('Paris')).toEqual({ length: 5 });
    expect(inputs).toEqual(['Berlin', 'Paris']);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('remembers null results, starts over when full, and never remembers long inputs', () => {
    const inputs: string[] = [];
    const parse = memoiseByString(
      (input: string) => {
        inputs.push(input);
        return input === 'none' ? null : { input };
      },
      { capacity: 2, maxInputLength: 10 },
    );
    expect([parse('none'), parse('none')]).toEqual([null, null]);
    parse('a');
    parse('b'); // the third distinct input: memory started over
    parse('a');
    parse('a long input');
    parse('a long input');
    expect(inputs).toEqual(['none', 'a', 'b', 'a', 'a long input', 'a long input']);
  });

  it('shares one answer per input from the parsers, which no caller can alter', () => {
    const location = parseLocation('São Paulo, São Paulo, Brazil');
    expect(parseLocation('São Paulo, São Paulo, Brazil')).toBe(location);
    expect(location).toMatchObject({ city: 'São Paulo', countryCode: 'BR' });
    expect(() => Object.assign(location!, { city: 'Lisbon' })).toThrow(TypeError);
    const title = classifyTitle('VP of Engineering');
    expect(classifyTitle('VP of Engineering')).toBe(title);
    expect(title).toMatchObject({ tier: 'VP', department: 'engineering' });
    expect(classifyTitle(42)).toEqual({ level: null, tier: null, department: null, matched: null });
  });
});
