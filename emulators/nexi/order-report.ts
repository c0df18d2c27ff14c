import type { EmuNexiDb } from './schema.js';

/**
 * `situazioneOrdine`'s `report`: one entry per order (codTrans) that has had a transaction, with XPay's
 * `stato` words and the operations (`AUTOR.`, `CONTAB.`) under `dettaglio[0].operazioni`. A link nobody has
 * paid on yet (or that the customer only canceled) has no transaction, so its report is empty.
 */

function dataTransazione(data: string, orario: string): string {
  return `${data.slice(0, 4)}-${data.slice(4, 6)}-${data.slice(6, 8)} ${orario.slice(0, 2)}:${orario.slice(2, 4)}:${orario.slice(4, 6)}`;
}

export async function orderReport(db: EmuNexiDb, alias: string, codTrans: string): Promise<Record<string, unknown>[]> {
  const link = await db.selectFrom('emu_nexi_links').selectAll().where('alias', '=', alias).where('cod_trans', '=', codTrans).executeTakeFirst();
  if (!link) return [];
  // A cancel on the page (ANNULLO) is the customer leaving, not a transaction: the report shows card tries only.
  const tries = await db
    .selectFrom('emu_nexi_payments')
    .selectAll()
    .where('link_id', '=', Number(link.id))
    .where('esito', '!=', 'ANNULLO')
    .orderBy('id', 'desc')
    .execute();
  const last = tries[0];
  if (!last) return [];
  const importo = Number(link.importo);
  const when = dataTransazione(last.data, last.orario);
  let stato: string;
  const operazioni: Record<string, unknown>[] = [];
  if (last.esito === 'OK') {
    stato = link.accounting === 'C' ? 'Contabilizzato' : 'Autorizzato';
    operazioni.push({ tipoOperazione: 'AUTOR.', importo, divisa: link.divisa, stato: 'Autorizzato', dataOperazione: `${when}.0`, utente: '' });
    if (link.accounting === 'C')
      operazioni.push({ tipoOperazione: 'CONTAB.', importo, divisa: link.divisa, stato: 'Contabilizzato', dataOperazione: `${when}.0`, utente: '' });
  } else {
    stato = 'Autor. Negata';
  }
  return [
    {
      codiceTransazione: link.cod_trans,
      importo,
      divisa: link.divisa,
      stato,
      brand: last.brand ?? '',
      nazione: last.pan ? 'ITA' : '',
      pan: last.pan ?? '',
      dataTransazione: when,
      dettaglio: [
        {
          nome: link.nome ?? '',
          cognome: link.cognome ?? '',
          mail: link.mail ?? '',
          importo,
          divisa: link.divisa,
          stato,
          codiceAutorizzazione: last.cod_aut,
          codiceEsito: last.codice_esito,
          messaggio: last.messaggio,
          operazioni,
        },
      ],
    },
  ];
}
