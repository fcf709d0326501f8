/** One data record as read, before it is mapped to a store row. */
export interface RawRecord {
  /**
   * 1-based position in the file: for CSV the data row (header excluded, blank
   * lines counted), for JSON Lines the line number.
   */
  readonly rowNo: number;
  /** CSV: the fields in header order; JSON Lines: the parsed object. */
  readonly values: readonly string[] | Readonly<Record<string, unknown>>;
  /** Set when the record itself is malformed (bad quoting, wrong field count, bad JSON). */
  readonly error?: string;
}

/** A stream of records with the column names known up front. */
export interface RecordReader {
  /** CSV: the header; JSON Lines: the keys of the first record. */
  readonly columns: readonly string[];
  /** A fast accessor for one column (an index for CSV, a key for JSON Lines). */
  column(name: string): (values: RawRecord['values']) => unknown;
  /** Records in batches of whatever one chunk of input held. */
  readonly batches: AsyncIterable<RawRecord[]>;
  /** The record as it was, for the rejects file (a CSV line's fields, or a JSON object). */
  readonly rejectsFormat: 'csv' | 'jsonl';
}
