/**
 * Hand-written CSV inputs that always run in the differential suite, next to
 * whatever sits in fixtures/csv/. Each one aims at a tokenizer edge: line end
 * styles, BOM, escapes at chunk edges, multibyte text, blank lines, nulls.
 */
export interface CorpusCase {
  name: string;
  delimiter: string;
  text: string;
}

export const CORPUS: CorpusCase[] = [
  { name: 'plain LF', delimiter: ',', text: 'a,b,c\n1,2,3\n4,5,6\n' },
  { name: 'no trailing newline', delimiter: ',', text: 'a,b\n1,2' },
  { name: 'BOM + CRLF', delimiter: ',', text: '\ufeffid,name\r\n1,"Kim, Min-su"\r\n2,"say ""hi"""\r\n' },
  { name: 'BOM only header, no newline', delimiter: ',', text: '\ufeffid,name' },
  { name: 'Korean and emoji', delimiter: ',', text: 'id,도시,emoji\n1,서울특별시,😀🎉\n2,"부산, 광역시","a\nb"\n3,👨‍👩‍👧,é\n' },
  { name: 'lone CR', delimiter: ',', text: 'a,b\rc,d\r"e\rf",g\r' },
  { name: 'mixed line ends', delimiter: ',', text: 'a,b\r\nc,d\ne,f\rg,h' },
  { name: 'blank lines', delimiter: ',', text: '\na,b\n\n\r\n1,2\r\r\n\n3,4\n\n' },
  { name: 'quoted empty vs null', delimiter: ',', text: 'a,b,c\n,"",\n"",,""\n,,\n' },
  { name: 'quoted line ends', delimiter: ',', text: 'x,y\r\n"line1\r\nline2",2\r\n"\r",3\r\n"\n","\r\n"\r\n' },
  { name: 'escaped quotes', delimiter: ',', text: '"""",""""""\n"a""","""b"\n"""""",x\n' },
  { name: 'single column with blanks', delimiter: ',', text: 'v\nx\n""\n\ny\n"a,b"\n' },
  { name: 'single column no trailing newline', delimiter: ',', text: 'v\n1\n2' },
  { name: 'semicolon', delimiter: ';', text: 'a;b\n"1;2";3\n4,5;"6"\n' },
  { name: 'tab', delimiter: '\t', text: 'a\tb\n"x\ty"\tz\n,\t;\n' },
  { name: 'pipe', delimiter: '|', text: 'a|b|c\n"|"|""|\n한글|"x""y"|z\n' },
  { name: 'spaces kept', delimiter: ',', text: ' a , b \n" c ", d\n' },
  { name: 'long field', delimiter: ',', text: `k,v\n1,${'x'.repeat(300)}\n2,"${'y,'.repeat(150)}"\n` },
  { name: 'trailing delimiter', delimiter: ',', text: 'a,b,\n1,2,\n' },
];
