/** A finding of the data checks, with its severity. */
export interface DataFinding {
  check:
    | 'constant_column'
    | 'high_missing'
    | 'id_like'
    | 'duplicate_rows'
    | 'class_imbalance'
    | 'proxy'
    | 'leakage'
    | 'small_group'
    /** A protected attribute's groups that differ only in letter case ("Female", "female"). */
    | 'group_spellings'
    /** A slice whose ROC AUC is more than 0.1 below the overall, on enough rows. */
    | 'underperforming_slice'
    /** A threshold policy fitted on the audited file itself (no data.validation): its metrics are optimistic. */
    | 'threshold_fitted_on_test'
    | 'encoding'
    | 'skipped_rows'
    /** data.test_sample_size at or above the file's rows: every row is audited, no sample drawn. */
    | 'sample_not_drawn'
    | 'date_order'
    /** Scores within float32 rounding outside [0, 1], clipped. */
    | 'probability_rounding'
    /** A model of more than two classes audited for one class against the rest. */
    | 'one_vs_rest'
    /** Cells of a categorical model input holding values the model never saw. */
    | 'unseen_category'
    /** Missing cells of a model input, and how they were fed. */
    | 'missing_input'
    /** A configured missing-value token that the model knows as a category (fed as the token). */
    | 'missing_token_is_category'
    /** Data checks (check-data): missing share from the configured warning level, skewness, likely personal data, drift by test, the data's dates. */
    | 'missing'
    | 'skewness'
    | 'personal_data'
    | 'drift'
    | 'freshness'
    /** Numbers of a ";"-separated file whose "." looks like a thousands separator (5.943 for 5943). */
    | 'thousands_separator'
    /** A column of numbers with a few texts (a marker not listed as missing), read as text. */
    | 'numbers_with_text'
    /** ROC AUC below 0.5 beyond its interval: the scores rank the positive label below the others (class names or the positive label swapped?). */
    | 'inverted_scores';
  severity: 'warning' | 'error';
  column?: string;
  message: string;
}
